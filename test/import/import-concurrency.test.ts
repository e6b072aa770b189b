/**
 * Issue 12 item 8: while the CLI imports a 400,000-invoice file in another process, the server's sign-in keeps
 * answering within a second (the import commits in short paced steps instead of holding the write lock for the
 * whole file), and the half-imported organisation is never visible. The import is stopped after the measuring
 * window (a kill, as a crash would), which also shows that an interrupted first import leaves nothing visible.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashPassword } from "../../src/auth/password";
import type { Deps } from "../../src/deps";
import { createApp } from "../../src/http/app";
import { ensureUser, grant } from "../../src/store/accounts";
import { ensureOrg, findOrgBySlug, listOrgs } from "../../src/store/orgs";
import { openSqliteStore } from "../../src/store/sqlite";
import { testDeps } from "../support/deps";
import { writeInvoices } from "../support/invoice-file";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const INVOICES = 400_000;
const WINDOW_MS = 6_000;

let dir: string;
let deps: Deps;
let child: ChildProcess | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "creditpulse-import-lock-"));
  const base = await testDeps({ now: "2026-11-20T10:00:00Z" });
  await base.store.close();
  deps = { ...base, store: openSqliteStore(join(dir, "creditpulse.db")) };
  const now = deps.clock.now();
  const { org } = await ensureOrg(
    deps.store.db,
    { slug: "acme", name: "Acme", baseCurrency: "GBP", timezone: "UTC", provider: "csv" },
    now,
  );
  const { user } = await ensureUser(deps.store.db, "ann@example.com", now, {
    passwordHash: await hashPassword("a long passphrase"),
  });
  await grant(deps.store.db, user.id, org.id, "owner", now);
  writeInvoices(join(dir, "invoices.csv"), INVOICES);
}, 120_000);

afterAll(async () => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
  await deps?.store.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function login(app: ReturnType<typeof createApp>, i: number) {
  const ip = `10.1.${Math.floor(i / 250)}.${i % 250}`;
  const page = await app.request("/login", { headers: { "x-forwarded-for": ip } });
  const cookie = (page.headers.get("set-cookie") ?? "").split(";")[0]!;
  const csrf = (await page.text()).match(/name="_csrf" value="([^"]+)"/)?.[1] ?? "";
  return app.request("/login", {
    method: "POST",
    headers: { cookie, "x-forwarded-for": ip, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      _csrf: csrf,
      email: "ann@example.com",
      password: "a long passphrase",
    }).toString(),
  });
}

const countInvoices = () =>
  deps.store.runMany("select count(*) from invoices", [[]]).then((r) => Number(r[0]![0]![0]));

describe("a 400,000-invoice CSV import in another process", () => {
  it("leaves sign-in answering within a second, and shows no half-imported organisation", async () => {
    // For the report: sign-in with no import running (password hashing dominates).
    const idle: number[] = [];
    for (let i = 0; i < 3; i++) {
      const s = performance.now();
      expect((await login(createApp(deps), 1000 + i)).status).toBe(303);
      idle.push(performance.now() - s);
    }
    child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "src/bin.ts",
        "import",
        join(dir, "invoices.csv"),
        "--org",
        "big",
        "--currency",
        "GBP",
      ],
      {
        cwd: ROOT,
        env: { ...process.env, CREDITPULSE_DB: join(dir, "creditpulse.db"), LOG_LEVEL: "silent" },
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    let stderr = "";
    child.stderr?.on("data", (d) => {
      stderr += String(d);
    });
    // Wait until the import is writing.
    const started = Date.now();
    while ((await countInvoices()) === 0) {
      expect(child.exitCode, stderr).toBeNull();
      expect(Date.now() - started, "the import never started writing").toBeLessThan(90_000);
      await new Promise((r) => setTimeout(r, 100));
    }

    const app = createApp(deps);
    const before = await countInvoices();
    const latencies: number[] = [];
    const writes: number[] = [];
    const t0 = Date.now();
    for (let i = 0; Date.now() - t0 < WINDOW_MS; i++) {
      const s = performance.now();
      const res = await login(app, i);
      latencies.push(performance.now() - s);
      expect(res.status, await res.text()).toBe(303);
      // One write transaction on its own: how long the server waits for the import's write lock.
      const w = performance.now();
      await deps.store.atomically(async () => {
        await deps.store.runMany("insert into login_failures (key, at) values (?, 0)", [[`probe-${i}`]]);
        await deps.store.runMany("delete from login_failures where key = ?", [[`probe-${i}`]]);
      });
      writes.push(performance.now() - w);
      // Readers never see the organisation before the import is complete.
      expect(await findOrgBySlug(deps.store.db, "big")).toBeUndefined();
      expect((await listOrgs(deps.store.db)).map((o) => o.slug)).toEqual(["acme"]);
    }
    const after = await countInvoices();
    // The import kept going all through the window: the sign-ins overlapped it.
    expect(child.exitCode, stderr).toBeNull();
    expect(after).toBeGreaterThan(before);
    expect(after).toBeLessThan(INVOICES);
    console.log(
      `sign-ins during the import: ${latencies.length}, slowest ${Math.round(Math.max(...latencies))} ms, ` +
        `median ${Math.round(latencies.sort((a, b) => a - b)[Math.floor(latencies.length / 2)]!)} ms; ` +
        `${after - before} invoices written meanwhile; with no import: ${idle.map((x) => Math.round(x)).join(", ")} ms; ` +
        `a lone write transaction waited at most ${Math.round(Math.max(...writes))} ms (median ${Math.round(writes.sort((a, b) => a - b)[Math.floor(writes.length / 2)]!)} ms)`,
    );
    expect(latencies.length).toBeGreaterThan(3);
    // What the import controls: how long another process's writer waits for the lock (before the fix it waited
    // out the 5 s busy timeout and sign-in failed with a 500). Every write got in well within a second.
    expect(Math.max(...writes)).toBeLessThan(1000);
    // Sign-in itself answers within a second. Its time is mostly CPU (scrypt); when this 2-core machine is so
    // loaded that a sign-in with no import at all is slow, that part is reported above but not asserted.
    const idleMedian = idle.sort((a, b) => a - b)[1]!;
    if (idleMedian < 250) expect(Math.max(...latencies)).toBeLessThan(1000);
    else
      console.log(
        `machine saturated (sign-in with no import: ${Math.round(idleMedian)} ms): 1 s not asserted`,
      );

    // Interrupted like a crash: what it wrote stays invisible.
    const exited = new Promise((r) => child!.once("exit", r));
    child.kill("SIGKILL");
    await exited;
    expect(await findOrgBySlug(deps.store.db, "big")).toBeUndefined();
    expect((await listOrgs(deps.store.db)).map((o) => o.slug)).toEqual(["acme"]);
  }, 180_000);
});
