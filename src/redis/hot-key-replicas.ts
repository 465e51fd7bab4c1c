/**
 * Hot-key replication across Redis Cluster shards. One key read by everyone lands on one slot, one
 * master, however many masters there are; a hot key therefore gets copies on the *other* masters and
 * reads pick one of owner and copies at random.
 *
 * - **Placement.** A copy of `d:{k}` is `d:{k%r<n>}`: `%r` never occurs in an escaped key (`%` is always
 *   followed by two hex digits there), so copies never collide with real keys, and `clear()`'s pattern
 *   for a namespace covers its keys' copies. For each master but the owner, `n` is the first suffix
 *   whose slot that master serves in the live slot map; placements are recomputed when the set of
 *   masters changes.
 * - **Copies are repaired from the owner, never written blind.** A read that finds no copy reads the
 *   owner's value and version and writes the copy as `v<version>\n<envelope>` with a short TTL, only if
 *   the copy does not already hold a higher version.
 * - **Writes leave tombstones.** After a write to a hot key moves its version, every copy is set to
 *   `v<new version>\n` (nothing) unless it holds a higher version: a reader that read the owner before
 *   the write cannot put the old value back, and after a write resolves no copy holds the old value.
 * - **Agreement.** Each instance announces its hot keys on `<prefix>hot` every second; a key is
 *   replicated while any instance found it hot in the last few seconds, so writers tombstone the copies
 *   that readers elsewhere made. Copies live `COPY_TTL_MS` at most, so one a lost announcement left
 *   behind heals by itself.
 */
import calculateSlot from 'cluster-key-slot';
import type { Envelope } from '../entry.js';
import type { GuardedCalls } from '../guard/guarded-calls.js';
import type { RedisClusterClient } from './client.js';
import { escapeKey } from './key-layout.js';

/** Longest a copy lives (also bounded by the owner's entry). */
const COPY_TTL_MS = 2000;
/** How long another instance's announcement keeps a key replicated here. */
const ANNOUNCED_FOR_MS = 3000;
/** How often the set of masters is compared with the one the placements were computed for. */
const TOPOLOGY_CHECK_MS = 1000;
/** Suffixes tried per master before giving up on it (a master serves ≥ 1/N of the slots). */
const MAX_SUFFIX = 1000;

/** Lua: write a copy (ARGV: version, text, px) unless it holds a higher version. An empty text is a tombstone. */
const COPY_SCRIPT = `local current = redis.call('GET', KEYS[1])
if current then
  local held = tonumber(string.match(current, '^v(%d+)'))
  if held and held > tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], 'v' .. ARGV[1] .. '\\n' .. ARGV[2], 'PX', ARGV[3]) return 1`;

/** What reading a copy needs of the tier: its decoder, a read of the owner, its encoder. */
export interface CopyReader {
  decode(raw: string): Envelope | undefined;
  owner(key: string): Promise<{ envelope: Envelope | undefined; version: string }>;
  encode(key: string, envelope: Envelope): string;
}

/** The hot keys of one tier and where their copies live. */
export class HotKeyReplicas {
  readonly #cluster: RedisClusterClient;
  readonly #prefix: string;
  readonly #calls: GuardedCalls;
  #local = new Set<string>();
  readonly #announced = new Map<string, number>();
  readonly #placements = new Map<string, string[]>();
  #masters = '';
  #checkedAt = Number.NEGATIVE_INFINITY;

  constructor(cluster: RedisClusterClient, prefix: string, calls: GuardedCalls) {
    this.#cluster = cluster;
    this.#prefix = prefix;
    this.#calls = calls;
  }

  /**
   * A hot key's read from one of its copies; a missing copy (or a tombstone, or a copy's node failing)
   * reads the owner and repairs the copy in the background.
   */
  async read(key: string, copy: string, tier: CopyReader): Promise<Envelope | undefined> {
    const raw = await this.#calls.call('GET copy', key, () => this.#cluster.get(copy)).catch(() => null);
    const parsed = raw === null ? undefined : parseCopy(String(raw));
    if (parsed !== undefined && parsed.text !== '') {
      const envelope = tier.decode(parsed.text);
      if (envelope !== undefined) return envelope;
    }
    const { envelope, version } = await tier.owner(key);
    const ttlMs = Math.min(COPY_TTL_MS, (envelope?.expiresAt ?? 0) - Date.now());
    if (envelope !== undefined && ttlMs > 0) {
      const args = [version, tier.encode(key, envelope), String(Math.max(1, Math.ceil(ttlMs)))];
      void this.#calls
        .call('repair', key, () => this.#cluster.eval(COPY_SCRIPT, { keys: [copy], arguments: args }))
        .catch(() => undefined);
    }
    return envelope;
  }

  /** After a write moved a key's version to `version`: if the key is hot, tombstones its copies. */
  async tombstone(key: string, version: string, now: number): Promise<void> {
    if (!this.isHot(key, now)) return;
    const args = [version, '', String(COPY_TTL_MS)];
    await Promise.all(
      this.copies(escapeKey(key), now).map((copy) =>
        this.#calls.call('tombstone', key, () => this.#cluster.eval(COPY_SCRIPT, { keys: [copy], arguments: args })),
      ),
    );
  }

  /** Replaces this instance's own hot keys. */
  setLocal(keys: readonly string[]): void {
    this.#local = new Set(keys);
  }

  /** This instance's own hot keys. */
  get local(): readonly string[] {
    return [...this.#local];
  }

  /** Another instance's announcement. */
  announced(keys: readonly string[], now: number): void {
    for (const key of keys) this.#announced.set(key, now + ANNOUNCED_FOR_MS);
  }

  /** Whether a (physical) key is replicated now. */
  isHot(key: string, now: number): boolean {
    if (this.#local.has(key)) return true;
    const until = this.#announced.get(key);
    if (until === undefined) return false;
    if (until > now) return true;
    this.#announced.delete(key);
    return false;
  }

  /** The Redis keys of a hot key's copies, one per master other than its owner's (empty off a cluster map). */
  copies(escaped: string, now: number): readonly string[] {
    // Checked at most once per TOPOLOGY_CHECK_MS: this runs on every read of a hot key.
    if (now - this.#checkedAt >= TOPOLOGY_CHECK_MS) {
      this.#checkedAt = now;
      const masters = this.#cluster.masters.map((m) => m.address).join(',');
      if (masters !== this.#masters) {
        // Topology changed (or first use): placements follow the live slot map.
        this.#masters = masters;
        this.#placements.clear();
      }
    }
    let placed = this.#placements.get(escaped);
    if (placed === undefined) {
      placed = this.#place(escaped);
      this.#placements.set(escaped, placed);
    }
    return placed;
  }

  #place(escaped: string): string[] {
    const slots = this.#cluster.slots;
    const owner = slots[calculateSlot(escaped)]?.master.address;
    const wanted = new Set(this.#cluster.masters.map((m) => m.address));
    if (owner !== undefined) wanted.delete(owner);
    const copies: string[] = [];
    for (let n = 0; n < MAX_SUFFIX && wanted.size > 0; n++) {
      const tag = `${escaped}%r${n}`;
      const master = slots[calculateSlot(tag)]?.master.address;
      if (master !== undefined && wanted.delete(master)) copies.push(`${this.#prefix}d:{${tag}}`);
    }
    return copies;
  }
}

/** Splits a copy's bytes into its version and envelope text (`''` for a tombstone); undefined if malformed. */
export function parseCopy(raw: string): { readonly version: string; readonly text: string } | undefined {
  const newline = raw.indexOf('\n');
  if (raw.charCodeAt(0) !== 118 /* v */ || newline < 2) return undefined;
  return { version: raw.slice(1, newline), text: raw.slice(newline + 1) };
}
