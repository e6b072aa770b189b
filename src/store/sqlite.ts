import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import type { Db, Store } from "./db";
import * as schema from "./schema";

export const MIGRATIONS_FOLDER = fileURLToPath(new URL("../../drizzle", import.meta.url));

/**
 * Opens the embedded store (better-sqlite3) at `path` (`:memory:` works) and applies the committed migrations.
 */
export function openSqliteStore(path: string): Store {
  if (path !== ":memory:" && !path.startsWith("file:")) mkdirSync(dirname(path), { recursive: true });
  const sqlite = new Database(path);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = NORMAL");
  sqlite.pragma("foreign_keys = ON");
  sqlite.pragma("busy_timeout = 5000");
  // 32 MiB of page cache (the default is 2 MiB): ids are random, so index inserts land all over a large ledger.
  sqlite.pragma("cache_size = -32768");
  const db = drizzle(sqlite, { schema });
  migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
  let depth = 0;
  const statements = new Map<string, Database.Statement>();
  const prepared = (text: string) => {
    let st = statements.get(text);
    if (!st) {
      st = sqlite.prepare(text);
      statements.set(text, st);
    }
    return st;
  };
  return {
    db: db as unknown as Db,
    kind: "sqlite",
    maxParams: 32_766,
    async atomically(work) {
      // better-sqlite3 runs every statement synchronously on one connection, so an explicit BEGIN/COMMIT
      // around awaited drizzle calls is a real transaction. Nested calls join the outer one.
      if (depth > 0) return work();
      sqlite.exec("BEGIN IMMEDIATE");
      depth++;
      try {
        const result = await work();
        sqlite.exec("COMMIT");
        return result;
      } catch (err) {
        if (sqlite.inTransaction) sqlite.exec("ROLLBACK");
        throw err;
      } finally {
        depth--;
      }
    },
    async runMany(text, params) {
      const st = prepared(text);
      const out: unknown[][][] = [];
      const runAll = () => {
        if (st.reader) {
          const raw = st.raw(true);
          for (const p of params) out.push(raw.all(...p) as unknown[][]);
        } else {
          for (const p of params) {
            st.run(...p);
            out.push([]);
          }
        }
      };
      if (sqlite.inTransaction) runAll();
      else sqlite.transaction(runAll)();
      return out;
    },
    async close() {
      sqlite.close();
    },
  };
}
