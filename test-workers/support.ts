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
import { env, exports } from "cloudflare:workers";
import { systemClock } from "../src/clock";
import { loadConfig } from "../src/config";
import type { Deps } from "../src/deps";
import type { JobMessage } from "../src/jobs";
import { createLogger } from "../src/log";
import { openD1Store } from "../src/store/d1";
import { sealerFromSecret } from "../src/store/secrets";

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
    const res = await exports.default.fetch(
      new Request(new URL(path, BASE), { ...init, headers, redirect: "manual" }),
    );
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

/** Runs the Worker's cron handler for `cron` and returns the messages it sent to the jobs queue. */
export async function runCron(cron: string, scheduledTime: number): Promise<void> {
  const ctx = createExecutionContext();
  await exports.default.scheduled({ cron, scheduledTime, noRetry() {} } as never, env as never, ctx);
  await waitOnExecutionContext(ctx);
}

/** Hands messages to the Worker's queue consumer, as the Queues service would; returns acks and retries. */
export async function consume(messages: JobMessage[], attempts = 1) {
  const batch = createMessageBatch<JobMessage>(
    "creditpulse-jobs",
    messages.map((body, i) => ({ id: `m${i}-${Date.now()}`, timestamp: new Date(), attempts, body })),
  );
  const ctx = createExecutionContext();
  await exports.default.queue(batch as never, env as never, ctx);
  return getQueueResult(batch, ctx);
}
