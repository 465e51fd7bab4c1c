/**
 * Freshness helpers with no cache state: the XFetch draw (probabilistic early expiration) and the race
 * of a load against its soft and hard timeouts.
 */

/**
 * Beyond this many load times (× beta) before expiry, XFetch cannot fire in practice: the chance is
 * `exp(−20)` ≈ 2·10⁻⁹. Hits farther out skip the draw (no `Math.log`, no random number).
 */
export const XFETCH_HORIZON = 20;

/**
 * XFetch (Vattani, Chierichetti & Lowenstein, VLDB 2015): refresh now if
 * `now − cost · ln(random()) ≥ expiresAt`, where `cost` is the load time × beta. The chance is
 * `exp(−timeLeft / cost)`: rising to 1 at expiry, sooner for slow loads.
 */
export function xfetchFires(now: number, expiresAt: number, cost: number, random: () => number): boolean {
  return cost > 0 && now - cost * Math.log(random()) >= expiresAt;
}

/** How a load ended, as the loader runner reports it (it never rejects). */
export type LoadSettled<T> =
  | {
      readonly ok: true;
      readonly value: T;
      readonly ttlOverride: number | undefined;
      readonly delta: number;
      /** Tags the loader gave (`setTags`), replacing the call's. */
      readonly tags: readonly string[] | undefined;
    }
  | { readonly ok: false; readonly error: unknown };

/** A load still running when a timeout passed. */
export type LoadTimedOut = 'soft' | 'hard';

/**
 * The load's outcome, or which timeout passed first (an infinite timeout never passes). Timers are
 * cleared as soon as anything settles, so nothing lingers after the race.
 */
export function raceTimeouts<T>(
  running: Promise<LoadSettled<T>>,
  softMs: number,
  hardMs: number,
): Promise<LoadSettled<T> | LoadTimedOut> {
  return new Promise((resolve) => {
    let soft: NodeJS.Timeout | undefined;
    let hard: NodeJS.Timeout | undefined;
    const finish = (result: LoadSettled<T> | LoadTimedOut) => {
      clearTimeout(soft);
      clearTimeout(hard);
      resolve(result);
    };
    if (Number.isFinite(softMs)) soft = setTimeout(finish, softMs, 'soft');
    if (Number.isFinite(hardMs)) hard = setTimeout(finish, hardMs, 'hard');
    running.then(finish);
  });
}

/** What {@link boundedWait} resolves with when a time limit passed first. */
export const SOFT_PASSED: unique symbol = Symbol('tiercache.softTimeout');
export const HARD_PASSED: unique symbol = Symbol('tiercache.hardTimeout');

/**
 * A caller's wait on a load it joined late (one already answering nobody, running in the background):
 * bounded as if the caller had started it. Past `softMs` it resolves {@link SOFT_PASSED}, past `hardMs`
 * {@link HARD_PASSED} (an infinite limit never passes); otherwise as the load does.
 */
export function boundedWait<T>(
  promise: Promise<T>,
  softMs: number,
  hardMs: number,
): Promise<T | typeof SOFT_PASSED | typeof HARD_PASSED> {
  if (!Number.isFinite(softMs) && !Number.isFinite(hardMs)) return promise;
  return new Promise((resolve, reject) => {
    let soft: NodeJS.Timeout | undefined;
    let hard: NodeJS.Timeout | undefined;
    const stop = () => {
      clearTimeout(soft);
      clearTimeout(hard);
    };
    if (Number.isFinite(softMs)) {
      soft = setTimeout(() => {
        stop();
        resolve(SOFT_PASSED);
      }, softMs);
    }
    if (Number.isFinite(hardMs)) {
      hard = setTimeout(() => {
        stop();
        resolve(HARD_PASSED);
      }, hardMs);
    }
    promise.then(
      (value) => {
        stop();
        resolve(value);
      },
      (error: unknown) => {
        stop();
        reject(error);
      },
    );
  });
}
