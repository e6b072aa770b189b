/**
 * The Cloudflare Workers entry (wrangler.toml): the same HTTP app and jobs table over D1.
 * Node-only pieces (better-sqlite3, node-cron, the CLI) are never imported here.
 */
import type { D1Database, ExecutionContext, ScheduledController } from "@cloudflare/workers-types";
import { systemClock } from "./clock";
import { loadConfig } from "./config";
import type { Deps } from "./deps";
import { createApp } from "./http/app";
import { JOBS, runJob } from "./jobs";
import { createLogger } from "./log";
import { openD1Store } from "./store/d1";
import { sealerFromSecret } from "./store/secrets";

interface Env {
  DB: D1Database;
  [key: string]: unknown;
}

async function depsFor(env: Env): Promise<Deps> {
  const strings = Object.fromEntries(Object.entries(env).filter(([, v]) => typeof v === "string")) as Record<
    string,
    string
  >;
  const config = loadConfig(strings);
  const secret = config.CREDITPULSE_SECRET;
  if (!secret) throw new Error("CREDITPULSE_SECRET must be set as a Worker secret");
  return {
    store: openD1Store(env.DB),
    clock: systemClock,
    log: createLogger(config.LOG_LEVEL),
    config,
    secret,
    sealer: await sealerFromSecret(secret),
  };
}

export default {
  async fetch(request: Request, env: Env) {
    return createApp(await depsFor(env)).fetch(request);
  },
  async scheduled(controller: ScheduledController, env: Env, ctx: ExecutionContext) {
    const deps = await depsFor(env);
    for (const job of JOBS.filter((j) => j.cron === controller.cron)) ctx.waitUntil(runJob(job, deps));
  },
};
