/**
 * The machine services some tests need (PostgreSQL, MariaDB, Chromium, the memcached binary). A
 * contributor without one gets those tests skipped with the reason, counted in the runner's summary; CI
 * has them all (`.ci/run`).
 */
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { delimiter, join } from 'node:path';
import { it } from 'node:test';

export const POSTGRES = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const MARIADB = process.env.TEST_MARIADB_URL ?? 'mysql://root@127.0.0.1:3306/test';
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Whether something listens at a URL's host and port (1 s at most). */
function listening(url: string, defaultPort: number): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || defaultPort) });
    const done = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** `false` when PostgreSQL answers, else why its tests are skipped. */
export const postgresMissing: string | false = (await listening(POSTGRES, 5432))
  ? false
  : `no PostgreSQL at ${POSTGRES} (set TEST_POSTGRES_URL)`;
/** `false` when MariaDB answers, else why its tests are skipped. */
export const mariadbMissing: string | false = (await listening(MARIADB, 3306))
  ? false
  : `no MariaDB at ${MARIADB} (set TEST_MARIADB_URL)`;
/** `false` when Chromium is installed, else why its tests are skipped. */
export const chromiumMissing: string | false = existsSync(CHROMIUM)
  ? false
  : `no ${CHROMIUM} (set CHROMIUM_PATH; .ci/run installs it)`;

/** `false` when a `memcached` binary is on the PATH (tests start their own servers), else why not. */
export const memcachedMissing: string | false = (process.env.PATH ?? '')
  .split(delimiter)
  .some((dir) => dir !== '' && existsSync(join(dir, 'memcached')))
  ? false
  : 'no memcached on the PATH (apt-get install memcached; .ci/run installs it)';

/**
 * Options for a suite that needs a service: `{ skip: reason }` when it is missing — and then a skipped
 * test in its place, since the runner's summary counts skipped tests, not skipped suites.
 */
export function needs(...missing: (string | false)[]): { skip: string | false } {
  const reason = missing.find((m) => m !== false) ?? false;
  if (reason !== false) it(`needs a service: ${reason}`, { skip: reason }, () => {});
  return { skip: reason };
}
