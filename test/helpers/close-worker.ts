/**
 * Creates and closes Redis tiers the ways a program does at start-up and shutdown, then lets the
 * process end by itself: if anything the tiers opened is left behind, it never exits (the test's check).
 */
import { ConfigError, createRedisTier } from '../../src/index.js';

const [live, dead] = process.argv.slice(2) as [string, string];

// Closed before connecting finished, against a live server and against a port nobody listens on.
for (const url of [live, dead]) {
  const tier = createRedisTier({ client: url });
  await tier.close();
  await tier.close(); // closing twice is harmless
}
// A rejected option must not leave a connection behind.
try {
  createRedisTier({ client: live, timeout: 'soon' });
  throw new Error('expected a ConfigError');
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
}
// Connected, used, closed twice.
const used = createRedisTier({ client: live });
await used.delete('k');
await used.close();
await used.close();
process.stdout.write('closed\n');
