import { describe, expect, it } from "vitest";
import { ConnectorError } from "../../connectors/connector";
import { createRateLimiter, parseRetryAfter, type Sleep, withRetry } from "../../connectors/limits";
import { fixedClock } from "../../src/clock";

function fakeTime() {
  const clock = fixedClock("2026-11-20T10:00:00Z");
  const slept: number[] = [];
  const sleep: Sleep = async (ms) => {
    slept.push(ms);
    clock.advance(ms);
    await new Promise((r) => setImmediate(r));
  };
  return { clock, sleep, slept };
}

describe("rate limiter", () => {
  it("never exceeds the per-minute window or the concurrency cap under a burst of 300 calls", async () => {
    const { clock, sleep } = fakeTime();
    const limiter = createRateLimiter({ perMinute: 60, concurrent: 5 }, clock, sleep);
    const starts: number[] = [];
    let inFlight = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 300 }, () =>
        limiter.schedule(async () => {
          starts.push(clock.now());
          peak = Math.max(peak, ++inFlight);
          await new Promise((r) => setImmediate(r));
          inFlight--;
        }),
      ),
    );
    starts.sort((a, b) => a - b);
    for (let i = 60; i < starts.length; i++)
      expect(starts[i]! - starts[i - 60]!).toBeGreaterThanOrEqual(60_000);
    expect(peak).toBeLessThanOrEqual(5);
    expect(limiter.calls).toBe(300);
  });

  it("stops at the daily budget, keeps a reserve for interactive calls, and holds callers after a 429", async () => {
    const { clock, sleep } = fakeTime();
    const limiter = createRateLimiter({ perMinute: 1000, concurrent: 5, perDay: 10 }, clock, sleep);
    for (let i = 0; i < 7; i++) await limiter.schedule(async () => undefined, { reserve: 3 });
    const err = await limiter.schedule(async () => undefined, { reserve: 3 }).catch((e) => e);
    expect(err).toBeInstanceOf(ConnectorError);
    expect(err.kind).toBe("rate_limited");
    expect(err.details.retryAfterMs).toBe(Date.parse("2026-11-21T00:00:00Z") - clock.now());
    await limiter.schedule(async () => undefined); // interactive work may use the reserve
    limiter.observe({ day: 0 }); // Xero says the day is spent
    await expect(limiter.schedule(async () => undefined)).rejects.toThrow(/daily/);
    clock.set("2026-11-21T00:00:01Z");
    const before = clock.now();
    limiter.holdUntil(before + 30_000);
    await limiter.schedule(async () => undefined);
    expect(clock.now()).toBeGreaterThanOrEqual(before + 30_000);
  });
});

describe("withRetry", () => {
  it("honours Retry-After on 429 and backs off with jitter on 5xx, then succeeds", async () => {
    const { sleep, slept } = fakeTime();
    let n = 0;
    const result = await withRetry(
      async () => {
        n++;
        if (n === 1) throw new ConnectorError("rate_limited", "429", { retryAfterMs: 7000 });
        if (n <= 3) throw new ConnectorError("transient", "500");
        return "ok";
      },
      { sleep, random: () => 0.5, baseMs: 100 },
    );
    expect(result).toBe("ok");
    expect(slept[0]).toBe(7000);
    expect(slept.slice(1)).toEqual([100, 200]); // half of 2^(attempt-1) * base
  });

  it("passes a long Retry-After (the daily limit) straight up so the sync pauses instead of waiting", async () => {
    const { sleep } = fakeTime();
    const err = new ConnectorError("rate_limited", "day", { retryAfterMs: 5 * 3_600_000, problem: "day" });
    await expect(withRetry(async () => Promise.reject(err), { sleep })).rejects.toBe(err);
    expect(parseRetryAfter("30", 0)).toBe(30_000);
    expect(parseRetryAfter("Fri, 20 Nov 2026 10:01:00 GMT", Date.parse("2026-11-20T10:00:00Z"))).toBe(60_000);
  });
});
