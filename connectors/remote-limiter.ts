/**
 * A RateLimiter whose state lives elsewhere (on Workers: a Durable Object per tenant, and one app-wide), with
 * the same interface as the in-process limiter, so connectors use either without knowing which. Node keeps the
 * in-process limiter (createRateLimiter); the Worker installs this one through `setLimiterProvider`.
 */
import { ConnectorError } from "./connector";
import type { LimitSpec, RateLimiter } from "./limits";
import type { RefreshLock } from "./tokens";

type AcquireResult =
  | { ok: true; slot: string; remainingToday: number }
  | { ok: false; retryAfterMs: number; message: string };

/** What the remote side offers (the Durable Object's RPC methods). */
export interface LimiterStub {
  lock(): Promise<string>;
  unlock(id: string): Promise<void> | void;
  acquire(spec: LimitSpec, reserve?: number): Promise<AcquireResult>;
  release(slot: string): Promise<void> | void;
  holdUntil(until: number): Promise<void> | void;
  observe(remaining: { minute?: number; day?: number }): Promise<void> | void;
}

export function remoteRateLimiter(stub: LimiterStub, spec: LimitSpec): RateLimiter {
  let calls = 0;
  let inFlight = 0;
  let peak = 0;
  let remaining = spec.perDay ?? Number.POSITIVE_INFINITY;
  return {
    async schedule(fn, opts) {
      const r = await stub.acquire(spec, opts?.reserve ?? 0);
      if (!r.ok)
        throw new ConnectorError("rate_limited", r.message, { retryAfterMs: r.retryAfterMs, problem: "day" });
      remaining = r.remainingToday;
      calls++;
      peak = Math.max(peak, ++inFlight);
      try {
        return await fn();
      } finally {
        inFlight--;
        await stub.release(r.slot);
      }
    },
    holdUntil(until) {
      void stub.holdUntil(until);
    },
    remainingToday: () => remaining,
    observe(r) {
      if (r.day !== undefined) remaining = r.day;
      void stub.observe(r);
    },
    get calls() {
      return calls;
    },
    get peakConcurrent() {
      return peak;
    },
  };
}

/** Where limiters come from: per tenant and app-wide, per provider. Unset = in-process limiters. */
export interface LimiterProvider {
  tenant(provider: string, tenantId: string, spec: LimitSpec): RateLimiter;
  app(provider: string, spec: LimitSpec): RateLimiter;
  /** The single-flight refresh lock of a provider's token sets (the token keeper's `lock`). */
  tokenLock?(provider: string): RefreshLock;
}

let provider: LimiterProvider | undefined;

export function setLimiterProvider(p: LimiterProvider | undefined): void {
  provider = p;
}

export function limiterProvider(): LimiterProvider | undefined {
  return provider;
}

/** A RefreshLock over per-token-set lock objects (`stubFor(holderId)`). */
export function remoteRefreshLock(stubFor: (holderId: string) => LimiterStub): RefreshLock {
  return {
    async acquire(holderId) {
      const stub = stubFor(holderId);
      const id = await stub.lock();
      return async () => {
        await stub.unlock(id);
      };
    },
  };
}
