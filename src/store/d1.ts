import type { D1Database } from "@cloudflare/workers-types";
import { drizzle } from "drizzle-orm/d1";
import type { Db, Store } from "./db";
import * as schema from "./schema";

/**
 * The store on Cloudflare D1. Migrations are applied by `wrangler d1 migrations apply` from drizzle/.
 * D1 has no interactive transactions: `atomically` runs the work as is, so callers keep to idempotent
 * statements (upserts, ON CONFLICT DO NOTHING claims).
 */
export function openD1Store(d1: D1Database): Store {
  const db = drizzle(d1, { schema });
  return {
    db: db as unknown as Db,
    kind: "d1",
    maxParams: 100,
    atomically: (work) => work(),
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
