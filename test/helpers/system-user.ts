/** The system user a database server of a test's own runs as: servers refuse root, tests may be root. */
import { execFileSync } from 'node:child_process';

/** `name`'s uid and gid when this process is root (run the server as `name`), else `undefined` (run as us). */
export function serviceUser(name: string): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}
