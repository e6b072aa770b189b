/**
 * The install an attacker faces in the security tests: a real server on a random port, with its database and
 * generated secret on disk (data/creditpulse.db, data/secret.key in a temporary folder), an organisation
 * imported from CSV, and signed-in members of every role.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fixedClock } from "../../src/clock";
import { loadConfig } from "../../src/config";
import type { Deps } from "../../src/deps";
import { importCsv } from "../../src/import/csv-import";
import { type Logger, silentLogger } from "../../src/log";
import { type Server, startServer } from "../../src/node";
import { loadOrCreateSecret } from "../../src/secret-key";
import type { Role } from "../../src/store/accounts";
import { sealerFromSecret } from "../../src/store/secrets";
import { openSqliteStore } from "../../src/store/sqlite";
import { signIn, type TestSession } from "../support/auth";
import { csv, tempFiles } from "../support/files";

export interface Target {
  url: string;
  server: Server;
  deps: Deps;
  dir: string;
  dbPath: string;
  secretPath: string;
  sessions: Record<Role, TestSession>;
  close(): Promise<void>;
}

export async function startTarget(
  opts: { env?: Record<string, string>; log?: Logger; orgs?: string[] } = {},
): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), "creditpulse-attack-"));
  const dbPath = join(dir, "data", "creditpulse.db");
  const config = loadConfig({
    CREDITPULSE_DB: dbPath,
    PORT: "0",
    CREDITPULSE_SCHEDULER: "0",
    CREDITPULSE_DEMO: "0",
    LOG_LEVEL: "silent",
    ...opts.env,
  });
  const store = openSqliteStore(dbPath);
  const secret = loadOrCreateSecret(config);
  const clock = fixedClock("2026-11-20T10:00:00Z");
  const deps: Deps = {
    store,
    clock,
    log: opts.log ?? silentLogger,
    config,
    secret,
    sealer: await sealerFromSecret(secret),
  };
  for (const slug of opts.orgs ?? ["acme"]) {
    const f = tempFiles({
      "invoices.csv": csv(
        "customer_id,customer_name,customer_email,invoice_number,issue_date,due_date,currency,total",
        `C1,${slug} customer,ap@${slug}.example,${slug}-1,2026-09-01,2026-10-01,GBP,1000.00`,
        `C2,${slug} other,ap2@${slug}.example,${slug}-2,2026-10-01,2026-11-10,GBP,250.00`,
      ),
    });
    const r = await importCsv(store, {
      org: slug,
      invoices: f["invoices.csv"]!,
      currency: "GBP",
      now: clock.now(),
    });
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
  }
  const sessions = {
    viewer: await signIn(deps, { email: "viewer@example.com", role: "viewer" }),
    bookkeeper: await signIn(deps, { email: "bookkeeper@example.com", role: "bookkeeper" }),
    owner: await signIn(deps, { email: "owner@example.com", role: "owner" }),
  };
  const server = await startServer(config, deps);
  return {
    url: server.url,
    server,
    deps,
    dir,
    dbPath,
    secretPath: join(dir, "data", "secret.key"),
    sessions,
    async close() {
      await server.close();
      await store.close();
    },
  };
}

export const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
