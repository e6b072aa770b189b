/**
 * Helpers for the Workers suite: the Worker's own handlers (the built bundle, same module as `exports.default`)
 * driven like a browser with a cookie jar, and the store over the test's local D1.
 */
import {
  createExecutionContext,
  createMessageBatch,
  getQueueResult,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { systemClock } from "../src/clock";
import { loadConfig } from "../src/config";
import type { Deps } from "../src/deps";
import type { JobMessage } from "../src/jobs";
import { createLogger } from "../src/log";
import { openD1Store } from "../src/store/d1";
import { sealerFromSecret } from "../src/store/secrets";
import { self, worker } from "./worker";

export const BASE = "http://creditpulse.test";

/** Deps over the test's D1, for seeding and reading what the Worker wrote. */
export async function testDeps(): Promise<Deps> {
  const strings = Object.fromEntries(Object.entries(env).filter(([, v]) => typeof v === "string")) as Record<
    string,
    string
  >;
  const config = loadConfig(strings);
  return {
    store: openD1Store(env.DB),
    clock: systemClock,
    log: createLogger("silent"),
    config,
    secret: config.CREDITPULSE_SECRET!,
    sealer: await sealerFromSecret(config.CREDITPULSE_SECRET!),
  };
}

/** A browser: keeps cookies, finds the CSRF field of the last HTML page, follows nothing by itself. */
export class Browser {
  cookies = new Map<string, string>();
  csrf = "";

  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set("cookie", [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    const res = await self.fetch(new Request(new URL(path, BASE), { ...init, headers, redirect: "manual" }));
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const i = pair!.indexOf("=");
      this.cookies.set(pair!.slice(0, i), pair!.slice(i + 1));
    }
    return res;
  }

  async page(path: string): Promise<{ status: number; html: string }> {
    const res = await this.fetch(path);
    const html = await res.text();
    const m = html.match(/name="_csrf" value="([^"]+)"/);
    if (m) this.csrf = m[1]!;
    return { status: res.status, html };
  }

  async post(path: string, fields: Record<string, string>): Promise<Response> {
    return this.fetch(path, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ _csrf: this.csrf, ...fields }).toString(),
    });
  }
}

/** The Worker's env with its jobs queue replaced by a recorder, so a test sees exactly what was enqueued. */
export function recordingEnv(overrides: Record<string, string> = {}) {
  const sent: JobMessage[] = [];
  const queue = {
    async send(body: JobMessage) {
      sent.push(structuredClone(body));
    },
    async sendBatch(messages: { body: JobMessage }[]) {
      for (const m of messages) sent.push(structuredClone(m.body));
    },
  };
  return { env: { ...env, ...overrides, JOBS: queue }, sent };
}

/** Runs the Worker's cron handler for `cron` at `scheduledTime`; returns what it enqueued. */
export async function runCron(cron: string, scheduledTime: number, overrides: Record<string, string> = {}) {
  const { env: e, sent } = recordingEnv(overrides);
  const ctx = createExecutionContext();
  await worker.scheduled({ cron, scheduledTime, noRetry() {} } as ScheduledController, e, ctx);
  await waitOnExecutionContext(ctx);
  return sent;
}

/**
 * Hands one message to the Worker's queue consumer, as the Queues service would (one per invocation, as
 * wrangler.toml's max_batch_size = 1 says). Returns its ack/retry outcome and the follow-up messages it sent.
 */
export async function consume(message: JobMessage, overrides: Record<string, string> = {}, attempts = 1) {
  const { env: e, sent } = recordingEnv(overrides);
  const batch = createMessageBatch<JobMessage>("creditpulse-jobs", [
    { id: crypto.randomUUID(), timestamp: new Date(), attempts, body: message },
  ]);
  const ctx = createExecutionContext();
  await worker.queue(batch as MessageBatch<unknown>, e, ctx);
  const result = await getQueueResult(batch, ctx);
  return { result, sent };
}

/** Consumes `first` and every follow-up until none is left; returns how many messages were handled. */
export async function drain(first: JobMessage[], overrides: Record<string, string> = {}) {
  const queue = [...first];
  let handled = 0;
  for (let m = queue.shift(); m; m = queue.shift()) {
    const { result, sent } = await consume(m, overrides);
    if (result.retryMessages.length) throw new Error(`message ${m.job} asked for a retry`);
    handled++;
    queue.push(...sent);
  }
  return handled;
}
