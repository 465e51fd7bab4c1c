/**
 * `tiercache`, the command line: `demo` (what `npm start` runs), `bench <name>` (the benchmarks in
 * `bench/`), and `stats <url>` (a running demo's hit rate, miss causes and hot keys, in the terminal).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runDemo } from './demo.js';
import { printStats } from './stats-command.js';

const HELP = `usage: tiercache <command> [options]

  demo [options]        the menu service with its load and dashboard (tiercache demo --help)
  bench <name> [opts]   a benchmark: l1, l2, stampede, hitratio (builds first)
  stats <url>           a running demo's hit rate, miss causes and hot keys, e.g. tiercache stats http://127.0.0.1:8080
`;

const ROOT = fileURLToPath(new URL('..', import.meta.url));

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case 'demo':
      return runDemo(rest);
    case 'bench': {
      // Benchmarks import the built library, so build first, as `npm run bench` does.
      const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
      return spawnSync(npm, ['run', 'bench', '--', ...rest], { cwd: ROOT, stdio: 'inherit' }).status ?? 1;
    }
    case 'stats':
      return printStats(rest[0]);
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(HELP);
      return 0;
    default:
      // `npm start -- --port 0` passes flags straight through: they are the demo's.
      if (command.startsWith('--')) return runDemo(argv);
      process.stderr.write(`unknown command ${command}\n\n${HELP}`);
      return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
