/**
 * `clear()` on Redis: never `KEYS` or `FLUSH*`. SCAN every master with an escaped MATCH pattern and
 * UNLINK what it finds, on the node that holds it.
 */
import type { GuardedCalls } from '../guard/guarded-calls.js';
import { type AnyRedisClient, isCluster, type RedisClient } from './client.js';

/** Keys asked for per SCAN step. */
const SCAN_COUNT = 1000;

/** Removes every key matching `pattern` (the escaped form of `keyPrefix`) from every master. */
export async function scanAndUnlink(
  calls: GuardedCalls,
  client: AnyRedisClient,
  pattern: string,
  keyPrefix: string,
): Promise<void> {
  const nodes = isCluster(client)
    ? await calls.call('CLUSTER NODES', keyPrefix, () =>
        Promise.all(client.masters.map((master) => client.nodeClient(master) as Promise<RedisClient>)),
      )
    : [client as RedisClient];
  // A clear walks the whole keyspace, however long that takes; but each SCAN and UNLINK step is one
  // call under the timeout and the breaker, so a dead or refusing server fails it instead of hanging.
  await Promise.all(nodes.map((node) => clearNode(calls, node, pattern, keyPrefix)));
}

async function clearNode(calls: GuardedCalls, node: RedisClient, pattern: string, keyPrefix: string): Promise<void> {
  let cursor = '0';
  do {
    const reply = await calls.call('SCAN', keyPrefix, () => node.scan(cursor, { MATCH: pattern, COUNT: SCAN_COUNT }));
    cursor = String(reply.cursor);
    // Keys found on a node live on that node; one UNLINK each (pipelined) keeps cross-slot rules happy.
    await Promise.all(reply.keys.map((key) => calls.call('UNLINK', keyPrefix, () => node.unlink(key))));
  } while (cursor !== '0');
}
