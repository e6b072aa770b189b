import type { SQL } from "drizzle-orm";
import type { BaseSQLiteDatabase } from "drizzle-orm/sqlite-core";
import type * as schema from "./schema";

/** The one database type every query module takes: better-sqlite3 and D1 both satisfy it. Always await. */
export type Db = BaseSQLiteDatabase<"sync" | "async", unknown, typeof schema>;

export type StoreKind = "sqlite" | "d1";

export interface Store {
  db: Db;
  kind: StoreKind;
  /** Most bound parameters one statement may carry on this driver (D1 allows 100). */
  maxParams: number;
  /**
   * Runs `work` so that its writes land together or not at all. On better-sqlite3 this is a real transaction,
   * one at a time per connection (overlapping calls wait their turn; a call made inside `work` nests as a
   * savepoint); D1 has no interactive transactions, so there callers must keep to idempotent statements.
   */
  atomically<T>(work: () => Promise<T>): Promise<T>;
  /**
   * Runs a known set of statements all-or-nothing: a transaction on better-sqlite3, one `batch()` on D1 (which
   * D1 runs as a transaction). Later statements can only depend on earlier ones through the database (e.g.
   * `insert ... select ... where exists`). Returns each statement's rows (RETURNING or SELECT), as objects.
   */
  batch(statements: SQL[]): Promise<Record<string, unknown>[][]>;
  /**
   * Runs one SQL statement once per parameter row, prepared once (bulk upserts). Returns, per row, the rows its
   * RETURNING clause produced, as arrays in column order. Parameters must already be driver values.
   */
  runMany(sqlText: string, params: unknown[][]): Promise<unknown[][][]>;
  close(): Promise<void>;
}
