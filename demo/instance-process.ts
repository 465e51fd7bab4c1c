/**
 * A child process running one application instance for `--instances N`: it waits for its settings,
 * starts, says so, then answers the parent's calls (see `instance.ts`) until told to close.
 */
import { type Instance, LocalInstance, type Reply, type Request, type Start } from './instance.js';

const send = (message: Reply | 'ready') => process.send?.(message);

process.once('message', (start: Start) => {
  const instance: Instance = new LocalInstance(start.config, start.load);
  process.on('message', async (request: Request) => {
    try {
      const result = await (instance[request.method] as (...args: unknown[]) => Promise<unknown>)(...request.args);
      // After `close`, exit once the answer is out: nothing of the instance is left to keep running.
      process.send?.({ n: request.n, result } satisfies Reply, () => {
        if (request.method === 'close') process.exit(0);
      });
    } catch (error) {
      send({ n: request.n, error: error instanceof Error ? error.message : String(error) });
    }
  });
  send('ready');
});
