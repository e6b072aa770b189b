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
    async close() {},
  };
}
