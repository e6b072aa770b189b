/**
 * The keyed upsert every ledger write goes through: rows of a table keyed by (org id, external id) are inserted,
 * or updated only when a tracked column differs, through one prepared statement run per row; what each row
 * became (created, updated, unchanged) comes back from RETURNING. Also the external-to-store id lookup.
 */
import { and, eq, inArray } from "drizzle-orm";
import { type AnySQLiteColumn, getTableConfig, type SQLiteTable } from "drizzle-orm/sqlite-core";
import type { Db, Store } from "./db";

export interface UpsertCounts {
  created: number;
  updated: number;
  unchanged: number;
}

export const emptyCounts = (): UpsertCounts => ({ created: 0, updated: 0, unchanged: 0 });

export function addCounts(into: UpsertCounts, more: UpsertCounts): UpsertCounts {
  into.created += more.created;
  into.updated += more.updated;
  into.unchanged += more.unchanged;
  return into;
}

export function chunksOf<T>(rows: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

const q = (name: string) => `"${name.replaceAll('"', '""')}"`;
const upsertSqlCache = new WeakMap<SQLiteTable, Map<string, { text: string; cols: AnySQLiteColumn[] }>>();

/**
 * The single-row upsert statement for `table` with these property keys: insert, or on (org, external id)
 * conflict update the tracked columns only when one differs, returning the row's id when written.
 */
function upsertStatement(table: SQLiteTable, keys: string[], tracked: string[]) {
  let byShape = upsertSqlCache.get(table);
  if (!byShape) {
    byShape = new Map();
    upsertSqlCache.set(table, byShape);
  }
  const shape = `${keys.join(",")}|${tracked.join(",")}`;
  let st = byShape.get(shape);
  if (!st) {
    const columns = table as unknown as Record<string, AnySQLiteColumn>;
    const name = q(getTableConfig(table).name);
    const cols = keys.map((k) => columns[k]!);
    const trackedCols = tracked.map((k) => columns[k]!);
    const set = [...trackedCols, columns.updatedAt!]
      .map((c) => `${q(c.name)} = excluded.${q(c.name)}`)
      .join(", ");
    const changed = trackedCols.map((c) => `${name}.${q(c.name)} IS NOT excluded.${q(c.name)}`).join(" OR ");
    const text =
      `INSERT INTO ${name} (${cols.map((c) => q(c.name)).join(", ")}) VALUES (${cols.map(() => "?").join(", ")}) ` +
      `ON CONFLICT (${q(columns.orgId!.name)}, ${q(columns.externalId!.name)}) DO UPDATE SET ${set} WHERE ${changed} ` +
      `RETURNING ${q(columns.id!.name)}`;
    st = { text, cols };
    byShape.set(shape, st);
  }
  return st;
}

function driverValue(col: AnySQLiteColumn, v: unknown): unknown {
  if (v === undefined || v === null) return null;
  return col.mapToDriverValue(v);
}

export type Outcome = "created" | "updated" | "unchanged";

/**
 * Upserts rows of `table` keyed by (org_id, external_id), updating only `tracked` columns and only when one
 * of them changed. Outcomes come from RETURNING: an inserted row comes back with the fresh id we generated,
 * an updated one with its old id, an unchanged one not at all. One prepared statement, run per row.
 */
export async function upsertKeyedOutcomes<TRow extends { id: string } & Record<string, unknown>>(
  store: Store,
  table: SQLiteTable,
  rows: TRow[],
  tracked: string[],
): Promise<{ outcome: Outcome; id: string | null }[]> {
  if (rows.length === 0) return [];
  const keys = Object.keys(rows[0]!);
  const { text, cols } = upsertStatement(table, keys, tracked);
  const params = rows.map((r) => keys.map((k, i) => driverValue(cols[i]!, r[k])));
  const results = await store.runMany(text, params);
  return results.map((returned, i) => {
    const id = returned[0]?.[0] as string | undefined;
    if (id === undefined) return { outcome: "unchanged", id: null };
    return { outcome: id === rows[i]!.id ? "created" : "updated", id };
  });
}

export function countOutcomes(outcomes: { outcome: Outcome }[]): UpsertCounts {
  const counts = emptyCounts();
  for (const o of outcomes) counts[o.outcome]++;
  return counts;
}

export async function upsertKeyed<TRow extends { id: string } & Record<string, unknown>>(
  store: Store,
  table: SQLiteTable,
  rows: TRow[],
  tracked: string[],
): Promise<UpsertCounts> {
  return countOutcomes(await upsertKeyedOutcomes(store, table, rows, tracked));
}

/** Maps external ids to store ids for one entity of one organisation. */
export async function idsByExternal(
  db: Db,
  table: SQLiteTable & { id: AnySQLiteColumn; orgId: AnySQLiteColumn; externalId: AnySQLiteColumn },
  orgId: string,
  externalIds: string[],
  maxParams: number,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const unique = [...new Set(externalIds)];
  for (const chunk of chunksOf(unique, Math.max(1, maxParams - 1))) {
    const rows = (await db
      .select({ id: table.id, externalId: table.externalId })
      .from(table)
      .where(and(eq(table.orgId, orgId), inArray(table.externalId, chunk)))) as {
      id: string;
      externalId: string;
    }[];
    for (const r of rows) out.set(r.externalId, r.id);
  }
  return out;
}
