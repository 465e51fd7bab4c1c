/** The Redis tier's load lock (`SET NX PX` with a token; see `miss-path.ts` for the protocol). */
import type { LockHandle } from '../tier.js';
import { EXTEND_SCRIPT, px, RELEASE_SCRIPT } from './scripts.js';

/**
 * A held load lock: its token fences the holder's store (`storeIf` refuses a token the lock no longer
 * holds), and the holder extends it while its load runs, so only a holder that stalled loses it.
 */
export class RedisLock implements LockHandle {
  readonly token: string;
  readonly #eval: (script: string, args: string[]) => Promise<unknown>;

  constructor(token: string, evaluate: (script: string, args: string[]) => Promise<unknown>) {
    this.token = token;
    this.#eval = evaluate;
  }

  async release(): Promise<void> {
    await this.#eval(RELEASE_SCRIPT, [this.token]).catch(() => undefined);
  }

  async extend(ttlMs: number): Promise<boolean> {
    return (await this.#eval(EXTEND_SCRIPT, [this.token, px(ttlMs)]).catch(() => 0)) === 1;
  }
}
