import type { D1Database } from "@cloudflare/workers-types";
import { drizzle } from "drizzle-orm/d1";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import type { Db, Store } from "./db";
import * as schema from "./schema";

/**
 * The store on Cloudflare D1. Migrations are applied by `wrangler d1 migrations apply` from drizzle/
 * (`npm run deploy`).
 *
 * D1 has no interactive transactions. `batch` runs a known set of statements as one D1 batch, which D1
 * applies all-or-nothing. `atomically` cannot hold a transaction open across awaited reads, so it runs the
 * work as is: every caller is written so that a retry after a partial failure converges (idempotent upserts,
 * conditional updates, ON CONFLICT DO NOTHING claims, cursors written after their page). README "D1 notes"
 * lists each caller and why it stays correct.
 */
export function openD1Store(d1: D1Database): Store {
  const db = drizzle(d1, { schema });
  return {
    db: db as unknown as Db,
    kind: "d1",
    maxParams: 100,
    atomically: (work) => work(),
    async batch(statements) {
      if (statements.length === 0) return [];
      const dialect = new SQLiteAsyncDialect();
      const prepared = statements.map((s) => {
        const q = dialect.sqlToQuery(s);
        return d1.prepare(q.sql).bind(...q.params);
      });
      const results = await d1.batch<Record<string, unknown>>(prepared);
      return results.map((r) => r.results ?? []);
    },
    async runMany(text, params) {
      const out: unknown[][][] = [];
      // D1 batches run as one implicit transaction; keep each batch modest.
      for (let i = 0; i < params.length; i += 50) {
        const batch = params.slice(i, i + 50).map((p) => d1.prepare(text).bind(...p));
        const results = await d1.batch<Record<string, unknown>>(batch);
        for (const r of results) out.push((r.results ?? []).map((row) => Object.values(row)));
      }
      return out;
    },
    async close() {},
  };
}
