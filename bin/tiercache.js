#!/usr/bin/env node
// The `tiercache` command: runs demo/cli.ts through tsx, so the demo needs no build step. The demo and
// tsx live in the repository, not in the installed package: there, say so instead of failing obscurely.
import { existsSync } from 'node:fs';

const cli = new URL('../demo/cli.ts', import.meta.url);
let register;
try {
  ({ register } = await import('tsx/esm/api'));
} catch {
  register = undefined;
}
if (!existsSync(cli) || register === undefined) {
  console.error(
    'The tiercache command (demo, stats, bench) runs from a clone of the repository: clone it, then\n' +
      '`npm install` and `npm start`. The installed package is the library only: import { createCache } from "tiercache".',
  );
  process.exit(1);
}
register();
await import(cli.href);
