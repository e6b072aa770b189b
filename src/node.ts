/**
 * The Node entry point: `npm start` and `creditpulse serve`. One process runs the HTTP app, the scheduler and
 * the embedded SQLite store, and seeds the demo organisation when no ledger connection is configured.
 */
import { serve as serveHttp } from "@hono/node-server";
import cron from "node-cron";
import { afterResponseIdle } from "./after-response";
import { systemClock } from "./clock";
import type { Config } from "./config";
import type { Deps } from "./deps";
import { createApp } from "./http/app";
import { seedDemoScored } from "./import/demo-deploy";
import { JOBS, runJob } from "./jobs";
import { createLogger } from "./log";
import { loadOrCreateSecret } from "./secret-key";
import { listOrgs } from "./store/orgs";
import { sealerFromSecret } from "./store/secrets";
import { openSqliteStore } from "./store/sqlite";

export interface Server {
  url: string;
  /** The one-time link that creates the first (owner) account, while no user exists. */
  setupUrl: string | null;
  close(): Promise<void>;
}

/** Seeds the demo organisation on first run when neither Xero nor QuickBooks is configured. */
export async function seedDemoIfWanted(deps: Deps): Promise<boolean> {
  const { config } = deps;
  if (config.CREDITPULSE_DEMO === "0" || config.xeroConfigured || config.quickbooksConfigured) return false;
  const orgs = await listOrgs(deps.store.db);
  if (orgs.some((o) => o.slug === "demo")) return false;
  // Scored now and as of a week ago (grades, trends and movement from the start), figures warm.
  const result = await seedDemoScored(deps, { now: deps.clock.now() });
  deps.log.info(
    { org: result.organisation.slug, invoices: result.counts.invoices.created },
    "seeded the demo organisation (no Xero or QuickBooks credentials are configured)",
  );
  return true;
}

export async function startServer(config: Config, deps?: Partial<Deps>): Promise<Server> {
  const log = deps?.log ?? createLogger(config.LOG_LEVEL);
  const store = deps?.store ?? openSqliteStore(config.CREDITPULSE_DB);
  const secret = deps?.secret ?? loadOrCreateSecret(config);
  const full: Deps = {
    store,
    clock: deps?.clock ?? systemClock,
    log,
    config,
    secret,
    sealer: deps?.sealer ?? (await sealerFromSecret(secret)),
  };
  await seedDemoIfWanted(full);
  const app = createApp(full);
  const tasks =
    config.CREDITPULSE_SCHEDULER === "1"
      ? JOBS.map((job) =>
          cron.schedule(job.cron, () => void runJob(job, full), { name: job.name, timezone: "UTC" }),
        )
      : [];
  const server = await new Promise<ReturnType<typeof serveHttp>>((resolve) => {
    const s = serveHttp({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, () => resolve(s));
  });
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : config.PORT;
  const url = `http://${config.HOST === "0.0.0.0" ? "localhost" : config.HOST}:${port}`;
  // Links in invitations and password resets name this address unless PUBLIC_URL says otherwise.
  full.listening = url;
  log.info({ url, db: config.CREDITPULSE_DB, jobs: tasks.length }, "Creditpulse is serving");
  const { setupLink } = await import("./auth/setup");
  const setupUrl = await setupLink(full, config.PUBLIC_URL ?? url);
  if (setupUrl) log.info("no accounts yet: open the setup link printed on the console to create the owner");
  return {
    url,
    setupUrl,
    async close() {
      for (const t of tasks) await t.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // Work started after responses (webhook re-pulls, first backfills) finishes before the store closes.
      await afterResponseIdle(full);
      if (!deps?.store) await store.close();
    },
  };
}
