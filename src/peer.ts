/**
 * Optional peer packages, loaded when a feature that needs them is first used: a cache with only its
 * L1 installs nothing else. `@redis/client` (the Redis tier) and `prom-client` (Prometheus export) are
 * CommonJS, so they load synchronously, and a missing one is a `ConfigError` that names the package to
 * install rather than an import failure of the whole library.
 */
import { createRequire } from 'node:module';
import { ConfigError } from './errors.js';

const require = createRequire(import.meta.url);
const loaded = new Map<string, unknown>();

/**
 * The module `name`, for the option or feature `feature`.
 * @throws ConfigError naming `feature` and the package when it is not installed.
 */
export function peer<T>(name: string, feature: string): T {
  let module = loaded.get(name);
  if (module === undefined) {
    try {
      module = require(name);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw cause;
      throw new ConfigError(feature, `needs the package ${name}, which is not installed: npm install ${name}`);
    }
    loaded.set(name, module);
  }
  return module as T;
}
