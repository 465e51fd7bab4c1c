/**
 * A cache instance in its own process, so a test can pause it for real (SIGSTOP) while it holds a load
 * lock: on `{ type: 'load', row }` it loads `menu` with a loader that reports `read`, then answers `row`
 * after a moment — the window in which the test stops it.
 */
import { createCache, createRedisTier } from '../../src/index.js';

const [url] = process.argv.slice(2);
const l2 = createRedisTier({ client: url as string });
const cache = createCache({ ttl: '1m', l2, lock: { ttl: '300ms', wait: '5s' } });
const send = (message: unknown) => (process.send as (message: unknown) => void)(message);

process.on('message', async (message: { type: string; row?: string }) => {
  if (message.type === 'load') {
    const value = await cache.getOrLoad('menu', async () => {
      send({ type: 'read' });
      await new Promise((resolve) => setTimeout(resolve, 300));
      return message.row;
    });
    send({ type: 'done', value, dropped: cache.stats().freshness.staleLoadsDropped });
  } else if (message.type === 'exit') {
    await cache.close();
    await l2.close();
    process.exit(0);
  }
});
send({ type: 'ready' });
