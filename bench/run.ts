/** `npm run bench -- <name> [args]`: runs bench/<name>.ts. */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const available = readdirSync(here)
  .filter((file) => file.endsWith('.ts') && !file.endsWith('-worker.ts') && file !== 'run.ts')
  .map((file) => file.slice(0, -3))
  .sort();
const name = process.argv[2];
if (name === undefined || !available.includes(name)) {
  console.error(`usage: npm run bench -- <name> [options]\n\nbenchmarks: ${available.join(', ')}`);
  process.exit(name === undefined ? 0 : 2);
}
process.argv.splice(2, 1);
await import(`./${name}.ts`);
