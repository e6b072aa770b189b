/**
 * The Cloudflare Workers entry (wrangler.toml): the same HTTP app and jobs table over D1.
 * - fetch: the HTTP app, given the Worker's env and execution context (after-response work goes to the
 *   jobs queue or `ctx.waitUntil`, see src/after-response.ts).
 * - scheduled: a cron tick only fans out: one queue message per organisation (or user) and job.
 * - queue: one message = one organisation's job; a failure is retried with backoff and, after max_retries,
 *   lands in the dead-letter queue. A sync that runs out of its page budget continues in a new message.
 * Node-only pieces (better-sqlite3, node-cron, the CLI) are never imported here.
 */
import type {
  D1Database,
  DurableObjectNamespace,
  ExecutionContext,
  MessageBatch,
  Queue,
  R2Bucket,
  ScheduledController,
} from "@cloudflare/workers-types";
import {
  type LimiterStub,
  remoteRateLimiter,
  remoteRefreshLock,
  setLimiterProvider,
} from "../connectors/remote-limiter";
import { systemClock } from "./clock";
import { loadConfig } from "./config";
import type { Deps } from "./deps";
import { createApp } from "./http/app";
import { handleJob, JOBS, type JobMessage } from "./jobs";
import { createLogger } from "./log";
import { openD1Store } from "./store/d1";
import { sealerFromSecret } from "./store/secrets";

export { RateLimiterObject } from "./workers/limiter-object";

export interface Env {
  DB: D1Database;
  /** The jobs queue (producer); the same queue's consumer is this Worker's `queue` handler. */
  JOBS: Queue<JobMessage>;
  /** One rate limiter (and token refresh) per provider tenant, plus one app-wide per provider. */
  LIMITER?: DurableObjectNamespace;
  /** Uploaded CSV files waiting for the jobs queue's `import` message (deleted once imported). */
  UPLOADS?: R2Bucket;
  [key: string]: unknown;
}

/** A queue's sendBatch takes at most 100 messages. */
const SEND_BATCH = 100;

/** Provider rate limits in Durable Objects: one per tenant/realm, one app-wide per provider (global on Workers). */
function useDurableLimiters(env: Env) {
  const ns = env.LIMITER;
  if (!ns) return;
  const stub = (name: string) => ns.get(ns.idFromName(name)) as unknown as LimiterStub;
  setLimiterProvider({
    tenant: (provider, tenantId, spec) => remoteRateLimiter(stub(`${provider}:tenant:${tenantId}`), spec),
    app: (provider, spec) => remoteRateLimiter(stub(`${provider}:app`), spec),
    tokenLock: (provider) => remoteRefreshLock((holderId) => stub(`${provider}:token:${holderId}`)),
  });
}

function r2Uploads(bucket: R2Bucket): NonNullable<Deps["uploads"]> {
  return {
    async put(key, body) {
      await bucket.put(key, body);
    },
    async get(key) {
      const object = await bucket.get(key);
      return object ? object.arrayBuffer() : null;
    },
    async delete(keys) {
      await bucket.delete(keys);
    },
  };
}

async function depsFor(env: Env): Promise<Deps> {
  useDurableLimiters(env);
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
    enqueue: async (messages) => {
      for (let i = 0; i < messages.length; i += SEND_BATCH)
        await env.JOBS.sendBatch(messages.slice(i, i + SEND_BATCH).map((body) => ({ body })));
    },
    ...(env.UPLOADS ? { uploads: r2Uploads(env.UPLOADS) } : {}),
  };
}

/** Retry delay for a failed message: 30 s, 1 min, 2 min, ... capped at 15 min. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(900, 30 * 2 ** Math.max(0, attempts - 1));
}

export default {
  retryDelaySeconds,

  async fetch(request: Request, env: Env, ctx: ExecutionContext) {
    return createApp(await depsFor(env)).fetch(request, env, ctx);
  },

  async scheduled(controller: ScheduledController, env: Env, _ctx: ExecutionContext) {
    const deps = await depsFor(env);
    const now = controller.scheduledTime;
    for (const job of JOBS.filter((j) => j.cron === controller.cron)) {
      const messages = await job.fanOut(deps, now);
      await deps.enqueue!(messages);
      deps.log.info({ job: job.name, messages: messages.length }, "job fanned out");
    }
  },

  async queue(batch: MessageBatch<JobMessage>, env: Env, _ctx: ExecutionContext) {
    const deps = await depsFor(env);
    for (const message of batch.messages) {
      try {
        const next = await handleJob(deps, message.body, {
          syncPagesPerMessage: deps.config.SYNC_PAGES_PER_MESSAGE,
          remindActionsPerMessage: deps.config.REMIND_EMAILS_PER_MESSAGE,
          statementsPerMessage: deps.config.STATEMENTS_PER_MESSAGE,
        });
        if (next.length) await deps.enqueue!(next);
        message.ack();
      } catch (err) {
        deps.log.error(
          { err, job: message.body.job, attempts: message.attempts },
          "job message failed; it will be retried",
        );
        message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
      }
    }
  },
};
