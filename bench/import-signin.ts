/**
 * Sign-in while a big CSV import runs in another process (issue 12 item 8), beside sign-in with no import,
 * measured in the same run:
 *
 *   npx tsx bench/import-signin.ts            # 400,000 invoices, 10 s of sign-ins during the import
 *   npx tsx bench/import-signin.ts 200000 5   # other size / seconds
 *
 * The CLI imports into a new organisation of a fresh database (`creditpulse import`, a child process) while this
 * process serves sign-ins through the app against the same file. It also times a lone write transaction, which is
 * how long a writer waits for the import's lock. The import is stopped (killed) after the window.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { hashPassword } from "../src/auth/password";
import { systemClock } from "../src/clock";
import { loadConfig } from "../src/config";
import type { Deps } from "../src/deps";
import { createApp } from "../src/http/app";
import { silentLogger } from "../src/log";
import { ensureUser, grant } from "../src/store/accounts";
import { ensureOrg } from "../src/store/orgs";
import { sealerFromSecret } from "../src/store/secrets";
import { openSqliteStore } from "../src/store/sqlite";
import { writeInvoices } from "../test/support/invoice-file";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const ms = (x: number) => `${Math.round(x)} ms`;

async function main() {
  const n = Number(process.argv[2] ?? 400_000);
  const seconds = Number(process.argv[3] ?? 10);
  const dir = mkdtempSync(join(tmpdir(), "creditpulse-bench-signin-"));
  const dbPath = join(dir, "creditpulse.db");
  const secret = randomBytes(32).toString("hex");
  const deps: Deps = {
    store: openSqliteStore(dbPath),
    clock: systemClock,
    log: silentLogger,
    config: loadConfig({ CREDITPULSE_DB: dbPath, LOG_LEVEL: "silent", CREDITPULSE_SCHEDULER: "0" }),
    secret,
    sealer: await sealerFromSecret(secret),
  };
  try {
    const now = Date.now();
    const { org } = await ensureOrg(
      deps.store.db,
      { slug: "acme", name: "Acme", baseCurrency: "GBP", timezone: "UTC", provider: "csv" },
      now,
    );
    const { user } = await ensureUser(deps.store.db, "ann@example.com", now, {
      passwordHash: await hashPassword("a long passphrase"),
    });
    await grant(deps.store.db, user.id, org.id, "owner", now);
    writeInvoices(join(dir, "invoices.csv"), n);
    const app = createApp(deps);
    let k = 0;
    const signIn = async () => {
      const ip = `10.2.${Math.floor(k / 250) % 250}.${k++ % 250}`;
      const t = performance.now();
      const page = await app.request("/login", { headers: { "x-forwarded-for": ip } });
      const cookie = (page.headers.get("set-cookie") ?? "").split(";")[0]!;
      const csrf = (await page.text()).match(/name="_csrf" value="([^"]+)"/)?.[1] ?? "";
      const res = await app.request("/login", {
        method: "POST",
        headers: { cookie, "x-forwarded-for": ip, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          _csrf: csrf,
          email: "ann@example.com",
          password: "a long passphrase",
        }).toString(),
      });
      if (res.status !== 303)
        throw new Error(`sign-in answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
      return performance.now() - t;
    };
    const loneWrite = async () => {
      const t = performance.now();
      await deps.store.atomically(async () => {
        await deps.store.runMany("insert into login_failures (key, at) values ('bench-probe', 0)", [[]]);
        await deps.store.runMany("delete from login_failures where key = 'bench-probe'", [[]]);
      });
      return performance.now() - t;
    };
    const measure = async (forMs: number) => {
      const signIns: number[] = [];
      const writes: number[] = [];
      const t0 = Date.now();
      while (Date.now() - t0 < forMs) {
        signIns.push(await signIn());
        writes.push(await loneWrite());
      }
      return { signIns, writes };
    };

    const idle = await measure(Math.min(5000, seconds * 500));
    const child = spawn(
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
      { cwd: ROOT, env: { ...process.env, CREDITPULSE_DB: dbPath, LOG_LEVEL: "silent" }, stdio: "ignore" },
    );
    const count = async () =>
      Number((await deps.store.runMany("select count(*) from invoices", [[]]))[0]![0]![0]);
    while ((await count()) === 0) {
      if (child.exitCode !== null) throw new Error(`the import exited with ${child.exitCode}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const before = await count();
    const busy = await measure(seconds * 1000);
    const written = (await count()) - before;
    const running = child.exitCode === null;
    child.kill("SIGKILL");

    console.log(
      `Sign-in (GET + POST /login, scrypt) while \`creditpulse import\` writes ${n} invoices in another process`,
    );
    console.log(
      "                     | sign-ins | median   | slowest  | lone write median | lone write slowest",
    );
    for (const [name, m] of [
      ["no import", idle],
      ["during the import", busy],
    ] as const)
      console.log(
        `${name.padEnd(20)} | ${String(m.signIns.length).padStart(8)} | ${ms(median(m.signIns)).padStart(8)} | ${ms(Math.max(...m.signIns)).padStart(8)} | ${ms(median(m.writes)).padStart(17)} | ${ms(Math.max(...m.writes)).padStart(18)}`,
      );
    console.log(
      `ratio (median during / median without): ${(median(busy.signIns) / median(idle.signIns)).toFixed(2)}x; ` +
        `the import wrote ${written} invoices during the window${running ? " and was still running" : " and FINISHED early (window not fully covered)"}`,
    );
    console.log(
      `Target: every sign-in within 1 s during the import: ${Math.max(...busy.signIns) < 1000 ? "MET" : "MISSED"}`,
    );
  } finally {
    await deps.store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
