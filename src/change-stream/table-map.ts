/**
 * What a committed row change invalidates: the `tables` option of a change stream maps each table to the
 * cache keys and tags its rows stand behind. A change is applied through the cache's own `delete` and
 * `invalidateTags`, so it moves the key's version in the shared tier exactly as an application's
 * `delete` would: a load that read the row before the commit cannot store it afterwards.
 */
import type { Cache } from '../cache/api.js';
import { CacheClosedError } from '../errors.js';

/** `invalidateTags` takes at most this many tags per call. */
const MAX_TAGS_PER_CALL = 32;

/** A row image as the database's change stream gives it: column name → value. */
export type Row = Readonly<Record<string, unknown>>;

/** How one table's rows map onto the cache. */
export interface TableRule {
  /** The cache keys a row stands behind (e.g. `(row) => [\`menu:${row.id}\`]`). */
  readonly keys?: (row: Row) => readonly string[];
  /** The tags a row stands behind (e.g. `(row) => [\`restaurant:${row.restaurant_id}\`]`). */
  readonly tags?: (row: Row) => readonly string[];
  /** The namespace the keys and tags live in (`cache.namespace(…)`). Default: the cache given. */
  readonly namespace?: string;
}

/** The tables a change stream watches, by name (`menus`) or schema-qualified name (`public.menus`). */
export type TableMap = Readonly<Record<string, TableRule>>;

/** One committed row change: its table and the row images the stream has (old may be partial or absent). */
export interface RowChange {
  readonly schema: string;
  readonly table: string;
  readonly kind: 'insert' | 'update' | 'delete' | 'truncate';
  readonly old: Row | undefined;
  readonly new: Row | undefined;
}

/** What a change stream has applied since it started. */
export interface AppliedCounts {
  /** Committed transactions applied (and then acknowledged). */
  transactions: number;
  /** Row changes applied. */
  changes: number;
  /** Keys deleted. */
  keys: number;
  /** Tags invalidated. */
  tags: number;
  /** Scopes cleared: a truncate, or a mapping that threw (nothing may stay stale silently). */
  clears: number;
}

/** The rule for a change's table, or `undefined` when the table is not mapped. */
export function ruleFor(tables: TableMap, schema: string, table: string): TableRule | undefined {
  return tables[`${schema}.${table}`] ?? tables[table];
}

/**
 * Applies the changes of `transactions` committed transactions to the cache: every key and tag of the old and the new image of each
 * row (a change of the key column invalidates both keys); a truncate, or a rule that throws, clears the
 * rule's scope instead. Resolves once every tier has applied them — then the transaction may be
 * acknowledged. @param report receives a rule's error (the scope was cleared in its place).
 */
export async function applyChanges(
  cache: Cache,
  tables: TableMap,
  changes: readonly RowChange[],
  counts: AppliedCounts,
  transactions: number,
  report: (error: Error) => void,
): Promise<void> {
  const work: Promise<unknown>[] = [];
  const scopes = new Map<string, { view: Cache; keys: Set<string>; tags: Set<string>; clear: boolean }>();
  for (const change of changes) {
    const rule = ruleFor(tables, change.schema, change.table);
    if (rule === undefined) continue;
    counts.changes++;
    const scopeName = rule.namespace ?? '';
    let scope = scopes.get(scopeName);
    if (scope === undefined) {
      scope = {
        view: rule.namespace === undefined ? cache : cache.namespace(rule.namespace),
        keys: new Set(),
        tags: new Set(),
        clear: false,
      };
      scopes.set(scopeName, scope);
    }
    if (change.kind === 'truncate') {
      scope.clear = true;
      continue;
    }
    try {
      for (const row of [change.old, change.new]) {
        if (row === undefined) continue;
        for (const key of rule.keys?.(row) ?? []) scope.keys.add(key);
        for (const tag of rule.tags?.(row) ?? []) scope.tags.add(tag);
      }
    } catch (error) {
      scope.clear = true;
      report(
        new Error(
          `the change stream's rule for table ${change.schema}.${change.table} threw on a ${change.kind}; ` +
            `its scope was cleared instead: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        ),
      );
    }
  }
  // A key or tag the cache refuses (invalid) cannot be cached either, so nothing stays stale: reported,
  // not retried. A closed cache rejects, and the transaction is not acknowledged.
  const settle = (operation: Promise<unknown>) =>
    operation.catch((error: unknown) => {
      if (error instanceof CacheClosedError) throw error;
      report(error instanceof Error ? error : new Error(String(error)));
    });
  for (const scope of scopes.values()) {
    if (scope.clear) {
      counts.clears++;
      work.push(settle(scope.view.clear()));
      continue;
    }
    counts.keys += scope.keys.size;
    for (const key of scope.keys) work.push(settle(scope.view.delete(key)));
    counts.tags += scope.tags.size;
    const tags = [...scope.tags];
    for (let i = 0; i < tags.length; i += MAX_TAGS_PER_CALL) {
      work.push(settle(scope.view.invalidateTags(tags.slice(i, i + MAX_TAGS_PER_CALL))));
    }
  }
  await Promise.all(work);
  // Applied means every instance was told: other instances' L1 copies go by the bus.
  await cache.invalidationsSent();
  counts.transactions += transactions;
}
