/**
 * The store under concurrency and on disk: overlapping units of work on one better-sqlite3 connection keep
 * their own outcomes; nested units do not deadlock; a database locked by another process gives a clear 503
 * (HTML for pages, JSON only under /api/), never a 500; the database and secret are private to their owner.
 */
import { chmodSync, existsSync, mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import { loadOrCreateSecret } from "../../src/secret-key";
import { isBusyError } from "../../src/store/busy";
import type { Store } from "../../src/store/db";
import { ensureOrg } from "../../src/store/orgs";
import { loginFailures } from "../../src/store/schema";
import { openSqliteStore } from "../../src/store/sqlite";
import { runCli } from "../support/cli";
import { addUser, Browser, type Running, runServer } from "./harness";

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

/** Test rows in a table with no foreign keys (login_failures: key, at). */
async function mark(store: Store, key: string) {
  await store.db.run(sql`insert into login_failures (key, at) values (${key}, 0)`);
}
async function marks(store: Store): Promise<string[]> {
  const rows = await store.db.select({ k: loginFailures.key }).from(loginFailures);
  return rows.map((r) => r.k).sort();
}

const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

describe("security: store.atomically on one connection", () => {
  it("two overlapping units keep their own outcomes: one's failure does not undo the other's success", async () => {
    const store = openSqliteStore(":memory:");
    stores.push(store);
    const order: string[] = [];
    const a = store.atomically(async () => {
      order.push("a starts");
      await mark(store, "a-1");
      await tick(20); // b is started while a is in the middle of its work
      await mark(store, "a-2");
      order.push("a ends");
      return "a done";
    });
    const b = store.atomically(async () => {
      order.push("b starts");
      await mark(store, "b-1");
      await tick();
      throw new Error("b fails");
    });
    const c = store.atomically(async () => {
      order.push("c starts");
      await mark(store, "c-1");
      return "c done";
    });
    const [ra, rb, rc] = await Promise.allSettled([a, b, c]);
    expect(ra).toEqual({ status: "fulfilled", value: "a done" });
    expect(rb.status).toBe("rejected");
    expect(rc).toEqual({ status: "fulfilled", value: "c done" });
    expect(await marks(store)).toEqual(["a-1", "a-2", "c-1"]);
    expect(order).toEqual(["a starts", "a ends", "b starts", "c starts"]);
  });

  it("a failure in the first unit does not take the second one's writes with it", async () => {
    const store = openSqliteStore(":memory:");
    stores.push(store);
    const a = store.atomically(async () => {
      await mark(store, "a-1");
      await tick(20);
      throw new Error("a fails late");
    });
    const b = store.atomically(async () => {
      await mark(store, "b-1");
    });
    await expect(a).rejects.toThrow("a fails late");
    await b;
    expect(await marks(store)).toEqual(["b-1"]);
  });

  it("nested units run inside the outer one (no deadlock); a caught inner failure undoes only the inner work", async () => {
    const store = openSqliteStore(":memory:");
    stores.push(store);
    const result = await store.atomically(async () => {
      await mark(store, "outer-1");
      const inner = await store.atomically(async () => {
        await mark(store, "inner-ok");
        return store.atomically(async () => "deep");
      });
      await store
        .atomically(async () => {
          await mark(store, "inner-bad");
          throw new Error("inner fails");
        })
        .catch(() => undefined);
      // Two nested units started together run one after the other.
      await Promise.all([
        store.atomically(async () => {
          await mark(store, "sibling-1");
          await tick();
        }),
        store.atomically(async () => mark(store, "sibling-2")),
      ]);
      await mark(store, "outer-2");
      return inner;
    });
    expect(result).toBe("deep");
    expect(await marks(store)).toEqual(["inner-ok", "outer-1", "outer-2", "sibling-1", "sibling-2"]);
    // And the outer failing undoes everything, nested work included.
    await expect(
      store.atomically(async () => {
        await store.atomically(async () => mark(store, "x-inner"));
        throw new Error("outer fails");
      }),
    ).rejects.toThrow();
    expect(await marks(store)).not.toContain("x-inner");
  });

  it("a plain write from another request during a unit waits for it, so the unit's rollback cannot take it", async () => {
    const store = openSqliteStore(":memory:");
    stores.push(store);
    let inside = false;
    const a = store.atomically(async () => {
      await mark(store, "a-1");
      inside = true;
      await tick(20);
      throw new Error("a fails");
    });
    while (!inside) await tick(1);
    // Another request, not in any unit: a write and a read.
    const write = mark(store, "other-request");
    const read = store.db
      .select({ k: loginFailures.key })
      .from(loginFailures)
      .then((rows) => rows); // starts the query now
    await expect(a).rejects.toThrow("a fails");
    await write;
    // The read waited too: it never saw a's uncommitted row.
    expect((await read).map((r) => r.k)).toEqual(["other-request"]);
    expect(await marks(store)).toEqual(["other-request"]);
  });

  it("a statement waiting for a stuck unit fails as busy (503 in the app) instead of hanging, and the line recovers", async () => {
    const store = openSqliteStore(":memory:", { waitForUnitMs: 100 });
    stores.push(store);
    let finish!: () => void;
    const stuck = new Promise<void>((r) => {
      finish = r;
    });
    let inside = false;
    const a = store.atomically(async () => {
      await mark(store, "a-1");
      inside = true;
      await stuck;
    });
    while (!inside) await tick(1);
    const waiting = mark(store, "gave-up");
    const err = await waiting.then(
      () => null,
      (e: unknown) => e,
    );
    expect(isBusyError(err)).toBe(true);
    // A later statement queued behind the one that gave up still runs once the unit ends.
    const later = mark(store, "later");
    finish();
    await a;
    await later;
    expect(await marks(store)).toEqual(["a-1", "later"]);
  });

  it("bulk writes (runMany) outside a unit wait for the running unit instead of joining it", async () => {
    const store = openSqliteStore(":memory:");
    stores.push(store);
    const a = store.atomically(async () => {
      await mark(store, "a-1");
      await tick(20);
      throw new Error("a fails");
    });
    await tick();
    const bulk = store.runMany("insert into login_failures (key, at) values (?, 0)", [
      ["bulk-1"],
      ["bulk-2"],
    ]);
    await expect(a).rejects.toThrow();
    await bulk;
    expect(await marks(store)).toEqual(["bulk-1", "bulk-2"]);
  });
});

describe("security: a locked database answers 503, not a 500 with JSON", () => {
  let run: Running | undefined;
  afterEach(async () => {
    await run?.close();
    run = undefined;
  });

  it("pages get an HTML 503 and /api/ a JSON 503 while another process holds the write lock", async () => {
    const dir = mkdtempSync(join(tmpdir(), "creditpulse-busy-"));
    const path = join(dir, "data", "creditpulse.db");
    run = await runServer({ CREDITPULSE_DB: path }, undefined, openSqliteStore(path));
    await addUser(run.deps, "ann@example.com", "ann's passphrase");
    const ann = new Browser(run.url);
    expect((await ann.signIn("ann@example.com", "ann's passphrase")).status).toBe(303);
    const b = new Browser(run.url);
    const csrf = await b.csrfFrom("/login");

    // Another process (the CLI, say) holds the write lock past busy_timeout.
    const other = new Database(path);
    other.exec("BEGIN IMMEDIATE");
    try {
      const page = await b.post("/login", {
        _csrf: csrf,
        email: "ann@example.com",
        password: "ann's passphrase",
      });
      expect(page.status).toBe(503);
      expect(page.headers.get("content-type")).toMatch(/^text\/html/);
      expect(page.headers.get("retry-after")).toBeTruthy();
      expect(await page.text()).toMatch(/busy/i);

      // A JSON client whose session's idle clock needs refreshing (a write): a JSON 503 under /api/.
      run.clock.advance(5 * 60_000);
      const api = await ann.fetch("/api/orgs");
      expect(api.status).toBe(503);
      expect(api.headers.get("content-type")).toMatch(/json/);
      expect(((await api.json()) as { error: { code: string } }).error.code).toBe("busy");
    } finally {
      other.exec("ROLLBACK");
      other.close();
    }
    // Once the lock is gone, the same requests work.
    expect((await b.signIn("ann@example.com", "ann's passphrase")).status).toBe(303);
    expect((await ann.fetch("/api/orgs")).status).toBe(200);
  }, 40_000);
});

describe("security: a locked database in the command line", () => {
  it("says the database is busy instead of printing a driver error", async () => {
    const dir = mkdtempSync(join(tmpdir(), "creditpulse-busy-cli-"));
    const path = join(dir, "creditpulse.db");
    const store = openSqliteStore(path);
    stores.push(store);
    await ensureOrg(
      store.db,
      { slug: "acme", name: "Acme", baseCurrency: "GBP", timezone: "UTC", provider: "csv" },
      0,
    );
    const other = new Database(path);
    other.exec("BEGIN IMMEDIATE");
    try {
      const r = await runCli(
        ["user", "add", "--email", "new@example.com", "--org", "acme", "--role", "viewer"],
        store,
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/database is busy/);
    } finally {
      other.exec("ROLLBACK");
      other.close();
    }
  }, 20_000);
});

describe("security: files are private", () => {
  it("creates the data folder 0700 and the database and secret 0600", async () => {
    const dir = mkdtempSync(join(tmpdir(), "creditpulse-files-"));
    const path = join(dir, "data", "creditpulse.db");
    const store = openSqliteStore(path);
    stores.push(store);
    await mark(store, "written"); // so the WAL exists too
    const config = loadConfig({ CREDITPULSE_DB: path });
    loadOrCreateSecret(config);
    const mode = (p: string) => statSync(p).mode & 0o777;
    expect(mode(join(dir, "data"))).toBe(0o700);
    expect(mode(path)).toBe(0o600);
    expect(mode(join(dir, "data", "secret.key"))).toBe(0o600);
    for (const extra of [`${path}-wal`, `${path}-shm`])
      if (existsSync(extra)) expect(mode(extra)).toBe(0o600);
  });

  it("tightens an existing world-readable database and secret to 0600", async () => {
    const dir = mkdtempSync(join(tmpdir(), "creditpulse-files-"));
    const path = join(dir, "creditpulse.db");
    writeFileSync(path, "");
    chmodSync(path, 0o644);
    const secretPath = join(dir, "secret.key");
    writeFileSync(secretPath, `${"ab".repeat(32)}\n`);
    chmodSync(secretPath, 0o644);
    stores.push(openSqliteStore(path));
    expect(loadOrCreateSecret(loadConfig({ CREDITPULSE_DB: path }))).toBe("ab".repeat(32));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(secretPath).mode & 0o777).toBe(0o600);
  });
});
