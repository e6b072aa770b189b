/**
 * Per-tenant rate limiting and retries for provider APIs.
 * - `createRateLimiter` keeps calls within a per-minute window, a concurrency cap and a daily budget, and
 *   learns from the provider's remaining-quota headers.
 * - `withRetry` retries rate-limited calls after Retry-After, and transient failures (5xx, timeouts) with
 *   exponential backoff and full jitter. Other errors pass straight through.
 * Time and sleeping are injected so tests run storms in milliseconds.
 */
import type { Clock } from "../src/clock";
import { ConnectorError } from "./connector";

export type Sleep = (ms: number) => Promise<void>;
export const realSleep: Sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export interface LimitSpec {
  perMinute: number;
  concurrent: number;
  /** Calls allowed per UTC day; undefined = unlimited. */
  perDay?: number;
}

export interface RateLimiter {
  /**
   * Runs `fn` when the limits allow. Throws ConnectorError("rate_limited") when the daily budget is spent, or
   * when no more than `reserve` calls are left today (background work keeps a reserve for interactive calls).
   */
  schedule<T>(fn: () => Promise<T>, opts?: { reserve?: number }): Promise<T>;
  /** Holds every caller back until `until` (epoch ms), e.g. after a 429 with Retry-After. */
  holdUntil(until: number): void;
  /** Calls left today by our own count (or the provider's, when it told us less). */
  remainingToday(): number;
  /** Tells the limiter what the provider said is left (e.g. X-MinLimit-Remaining). */
  observe(remaining: { minute?: number; day?: number }): void;
  /** Calls made (for tests and benchmarks). */
  readonly calls: number;
  /** Most calls seen in flight at once. */
  readonly peakConcurrent: number;
}

const MINUTE = 60_000;
const DAY = 86_400_000;

export function createRateLimiter(spec: LimitSpec, clock: Clock, sleep: Sleep = realSleep): RateLimiter {
  const starts: number[] = [];
  let inFlight = 0;
  let peak = 0;
  let calls = 0;
  let day = Math.floor(clock.now() / DAY);
  let usedToday = 0;
  let providerDayRemaining: number | undefined;
  let providerMinuteRemaining: number | undefined;
  let providerMinuteAt = 0;
  const waiters: (() => void)[] = [];
  let heldUntil = 0;

  const rollDay = () => {
    const d = Math.floor(clock.now() / DAY);
    if (d !== day) {
      day = d;
      usedToday = 0;
      providerDayRemaining = undefined;
    }
  };
  const remainingToday = () => {
    rollDay();
    const ours = spec.perDay === undefined ? Number.POSITIVE_INFINITY : spec.perDay - usedToday;
    return Math.max(0, Math.min(ours, providerDayRemaining ?? Number.POSITIVE_INFINITY));
  };

  async function acquire(reserve: number): Promise<void> {
    for (;;) {
      if (remainingToday() <= reserve) {
        const resumeAt = (day + 1) * DAY;
        throw new ConnectorError(
          "rate_limited",
          reserve > 0
            ? "daily API budget used up (the rest is kept for interactive calls)"
            : "daily API budget used up",
          { retryAfterMs: resumeAt - clock.now(), problem: "day" },
        );
      }
      if (inFlight >= spec.concurrent) {
        await new Promise<void>((r) => waiters.push(r));
        continue;
      }
      const now = clock.now();
      while (starts.length && starts[0]! <= now - MINUTE) starts.shift();
      let wait = Math.max(0, heldUntil - now);
      if (starts.length >= spec.perMinute) wait = Math.max(wait, starts[0]! + MINUTE - now);
      if (
        providerMinuteRemaining !== undefined &&
        providerMinuteRemaining <= 0 &&
        now - providerMinuteAt < MINUTE
      )
        wait = Math.max(wait, providerMinuteAt + MINUTE - now);
      if (wait > 0) {
        await sleep(wait);
        continue;
      }
      starts.push(now);
      inFlight++;
      peak = Math.max(peak, inFlight);
      calls++;
      usedToday++;
      if (providerMinuteRemaining !== undefined) providerMinuteRemaining--;
      return;
    }
  }

  return {
    async schedule(fn, opts) {
      await acquire(opts?.reserve ?? 0);
      try {
        return await fn();
      } finally {
        inFlight--;
        waiters.shift()?.();
      }
    },
    remainingToday,
    holdUntil(until) {
      heldUntil = Math.max(heldUntil, until);
    },
    observe(r) {
      if (r.day !== undefined) providerDayRemaining = r.day;
      if (r.minute !== undefined) {
        providerMinuteRemaining = r.minute;
        providerMinuteAt = clock.now();
      }
    },
    get calls() {
      return calls;
    },
    get peakConcurrent() {
      return peak;
    },
  };
}

export interface RetryOptions {
  maxAttempts?: number;
  baseMs?: number;
  maxMs?: number;
  sleep?: Sleep;
  random?: () => number;
  /** Longest Retry-After we wait in-process; longer ones are thrown so the job resumes later. */
  maxRetryAfterMs?: number;
}

/** Retries rate-limited and transient ConnectorErrors; returns the first success or throws the last error. */
export async function withRetry<T>(fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const max = opts.maxAttempts ?? 6;
  const base = opts.baseMs ?? 500;
  const cap = opts.maxMs ?? 30_000;
  const sleep = opts.sleep ?? realSleep;
  const random = opts.random ?? Math.random;
  const maxRetryAfter = opts.maxRetryAfterMs ?? 120_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof ConnectorError) || attempt >= max) throw err;
      if (err.kind === "rate_limited") {
        const after = err.details.retryAfterMs ?? Math.min(cap, base * 2 ** attempt);
        if (after > maxRetryAfter) throw err;
        await sleep(after);
      } else if (err.kind === "transient") {
        await sleep(Math.floor(random() * Math.min(cap, base * 2 ** (attempt - 1))));
      } else {
        throw err;
      }
    }
  }
}

/** Parses an HTTP Retry-After header (seconds or an HTTP date) into milliseconds from `now`. */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const secs = Number(value);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Maps an HTTP status to the ConnectorError kind sync acts on. */
export function errorKindForStatus(status: number): ConnectorError["kind"] {
  if (status === 401 || status === 403) return "auth_revoked";
  if (status === 429) return "rate_limited";
  if (status >= 500 || status === 408) return "transient";
  return "invalid_data";
}
