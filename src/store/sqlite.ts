import { AsyncLocalStorage } from "node:async_hooks";
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { SQLiteSyncDialect } from "drizzle-orm/sqlite-core";
import type { Db, Store } from "./db";
import * as schema from "./schema";

export const MIGRATIONS_FOLDER = fileURLToPath(new URL("../../drizzle", import.meta.url));

/** The unit of work `atomically` is running in this async context (nested calls join it with a savepoint). */
interface Frame {
  active: boolean;
  /** Tail of the line of units waiting to run inside this one (nested calls run one at a time too). */
  queue: Promise<void>;
}

/** How long a statement from outside waits for the running unit before failing as busy (as busy_timeout). */
export const WAIT_FOR_UNIT_MS = 5_000;

/** A "database is busy" error (SQLITE_BUSY), as SQLite itself raises after busy_timeout. */
function busyError(ms: number): Error {
  return Object.assign(
    new Error(`database is busy: waited ${ms} ms for another unit of work on this connection`),
    { code: "SQLITE_BUSY" },
  );
}

/**
 * Runs `work` after everything already queued on `line`, and before anything queued after it. With
 * `timeoutMs`, gives up its place (rejecting with a busy error) when its turn has not come by then.
 */
async function inLine<T>(
  line: { queue: Promise<void> },
  work: () => Promise<T>,
  timeoutMs?: number,
): Promise<T> {
  const before = line.queue;
  let release!: () => void;
  line.queue = new Promise<void>((r) => {
    release = r;
  });
  if (timeoutMs === undefined) await before;
  else {
    // Exactly one of "our turn came" and "we gave up" wins; a waiter that gave up passes its turn on at once.
    let state: "waiting" | "running" | "gave_up" = "waiting";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (state !== "waiting") return;
        state = "gave_up";
        reject(busyError(timeoutMs));
      }, timeoutMs);
      timer.unref?.();
      void before.then(() => {
        if (state === "gave_up") return release();
        state = "running";
        clearTimeout(timer);
        resolve();
      });
    });
  }
  try {
    return await work();
  } finally {
    release();
  }
}

/**
 * Creates the database file (and its folder) readable by this user only: the folder 0700 when we create it,
 * the file 0600. An existing file that others can read is tightened to 0600 (with its WAL and shared-memory
 * files: SQLite gives those the database file's mode).
 */
export function prepareDatabaseFile(path: string) {
  if (path === ":memory:" || path.startsWith("file:") || path === "") return;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (!existsSync(path)) closeSync(openSync(path, "a", 0o600));
  for (const f of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      if (existsSync(f)) chmodSync(f, 0o600);
    } catch {
      // Not ours to change (another owner): leave it as the administrator set it.
    }
  }
}

type PreparedLike = Record<"run" | "all" | "get" | "values", (...args: unknown[]) => unknown>;

/**
 * Wraps the statements drizzle runs on `db`: when `mustWait()` says so, a statement waits its turn through
 * `later` (a promise, which every caller awaits: store access is async everywhere); otherwise it runs at once.
 * drizzle's `all` calls `values` on the same prepared query synchronously: that inner call always runs at once.
 */
function gateStatements(
  db: unknown,
  mustWait: () => boolean,
  later: (run: () => Promise<unknown>) => Promise<unknown>,
) {
  const session = (db as { session: { prepareQuery: (...args: unknown[]) => PreparedLike } }).session;
  const prepareQuery = session.prepareQuery.bind(session);
  let running = 0;
  session.prepareQuery = (...args: unknown[]) => {
    const pq = prepareQuery(...args);
    for (const method of ["run", "all", "get", "values"] as const) {
      const original = pq[method].bind(pq);
      const now = (params: unknown[]) => {
        running++;
        try {
          return original(...params);
        } finally {
          running--;
        }
      };
      pq[method] = (...params: unknown[]) =>
        running > 0 || !mustWait() ? now(params) : later(async () => now(params));
    }
    return pq;
  };
}

/** Bound parameters (`?`) in one SQL statement, outside quoted strings and identifiers. */
export function countParams(text: string): number {
  let n = 0;
  let quote: string | null = null;
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === "'" || ch === '"' || ch === "`") quote = ch;
    else if (ch === "?") n++;
  }
  return n;
}

export interface SqliteStoreOptions {
  waitForUnitMs?: number;
  /**
   * Refuse any statement binding more parameters than this, and tell the query code to chunk to it: with 100
   * this store behaves like D1 (tests of the heavy paths run against it).
   */
  maxParams?: number;
  /** Called with each statement's SQL as it is prepared (benchmarks count the queries a job makes). */
  onStatement?: (sqlText: string) => void;
}

/**
 * Opens the embedded store (better-sqlite3) at `path` (`:memory:` works) and applies the committed migrations.
 */
export function openSqliteStore(path: string, opts: SqliteStoreOptions = {}): Store {
  const waitMs = opts.waitForUnitMs ?? WAIT_FOR_UNIT_MS;
  prepareDatabaseFile(path);
  const sqlite = new Database(path);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = NORMAL");
  sqlite.pragma("foreign_keys = ON");
  sqlite.pragma("busy_timeout = 5000");
  // 32 MiB of page cache (the default is 2 MiB): ids are random, so index inserts land all over a large ledger.
  sqlite.pragma("cache_size = -32768");
  const db = drizzle(sqlite, { schema });
  migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
  const maxParams = opts.maxParams;
  const onStatement = opts.onStatement;
  if (maxParams !== undefined || onStatement) {
    const prepare = sqlite.prepare.bind(sqlite);
    sqlite.prepare = ((text: string) => {
      onStatement?.(text);
      const n = countParams(text);
      if (maxParams !== undefined && n > maxParams)
        throw new Error(
          `too many SQL variables: ${n} bound parameters, over ${maxParams}: ${text.slice(0, 120)}`,
        );
      return prepare(text);
    }) as typeof sqlite.prepare;
  }
  // One unit of work at a time on this connection: better-sqlite3 has one connection, so two overlapping
  // BEGIN...COMMIT blocks would otherwise share one transaction and one's failure would undo the other's work.
  // `queue` is the tail of the line; a call made inside a running unit (same async context) nests as a savepoint.
  const frames = new AsyncLocalStorage<Frame>();
  const connection = { queue: Promise.resolve() };
  let savepoints = 0;
  const inUnit = () => frames.getStore()?.active === true;
  // Statements from outside the running unit (another request's plain read or write) wait for it to finish
  // instead of running inside its transaction, where its rollback would take them along; after
  // WAIT_FOR_UNIT_MS they fail as busy (a 503 in the HTTP app), so a stuck unit never hangs the server. drizzle
  // runs every statement through its session's prepared queries; those are wrapped here (after migrations).
  gateStatements(
    db,
    () => sqlite.inTransaction && !inUnit(),
    (run) => inLine(connection, run, waitMs),
  );
  const statements = new Map<string, Database.Statement>();
  const prepared = (text: string) => {
    let st = statements.get(text);
    if (!st) {
      st = sqlite.prepare(text);
      statements.set(text, st);
    }
    return st;
  };
  const runManyNow = (text: string, params: unknown[][]) => {
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
  };
  return {
    db: db as unknown as Db,
    kind: "sqlite",
    maxParams: maxParams ?? 32_766,
    async atomically(work) {
      const parent = frames.getStore();
      if (parent?.active) {
        // Nested: a savepoint inside the running transaction (one at a time within it), so an inner failure
        // the caller catches undoes only the inner writes.
        return inLine(parent, async () => {
          const name = `cp_nested_${++savepoints}`;
          sqlite.exec(`SAVEPOINT ${name}`);
          const own: Frame = { active: true, queue: Promise.resolve() };
          try {
            const result = await frames.run(own, work);
            sqlite.exec(`RELEASE ${name}`);
            return result;
          } catch (err) {
            if (sqlite.inTransaction) sqlite.exec(`ROLLBACK TO ${name}; RELEASE ${name}`);
            throw err;
          } finally {
            own.active = false;
          }
        });
      }
      return inLine(connection, async () => {
        // better-sqlite3 runs every statement synchronously on one connection, so an explicit BEGIN/COMMIT
        // around awaited drizzle calls is a real transaction.
        sqlite.exec("BEGIN IMMEDIATE");
        const own: Frame = { active: true, queue: Promise.resolve() };
        try {
          const result = await frames.run(own, work);
          sqlite.exec("COMMIT");
          return result;
        } catch (err) {
          if (sqlite.inTransaction) sqlite.exec("ROLLBACK");
          throw err;
        } finally {
          own.active = false;
        }
      });
    },
    async batch(statements) {
      const dialect = new SQLiteSyncDialect();
      const runAll = () => {
        const all = () =>
          statements.map((q) => {
            const { sql: text, params } = dialect.sqlToQuery(q);
            const st = prepared(text);
            if (st.reader) return st.all(...(params as unknown[])) as Record<string, unknown>[];
            st.run(...(params as unknown[]));
            return [];
          });
        return sqlite.inTransaction ? all() : sqlite.transaction(all)();
      };
      // Like runMany: outside a unit of work, wait for the running one so this batch is never part of it.
      if (inUnit() || !sqlite.inTransaction) return runAll();
      return inLine(connection, async () => runAll(), waitMs);
    },
    async runMany(text, params) {
      // Outside a unit of work, wait for the running one so these rows are never part of its transaction.
      if (inUnit() || !sqlite.inTransaction) return runManyNow(text, params);
      return inLine(connection, async () => runManyNow(text, params), waitMs);
    },
    async close() {
      sqlite.close();
    },
  };
}
