#!/usr/bin/env node
// The `tiercache` command: runs demo/cli.ts through tsx, so the demo needs no build step.
import { register } from 'tsx/esm/api';

register();
await import('../demo/cli.ts');
