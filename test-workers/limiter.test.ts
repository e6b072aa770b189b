/**
 * The Durable Object rate limiter: one object per tenant holds the concurrency cap, the per-minute window and
 * the daily budget for every caller (every isolate gets a stub to the same object).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type LimiterStub, remoteRateLimiter } from "../connectors/remote-limiter";

const stubFor = (name: string) =>
  (env as unknown as { LIMITER: DurableObjectNamespace }).LIMITER.get(
    (env as unknown as { LIMITER: DurableObjectNamespace }).LIMITER.idFromName(name),
  ) as unknown as LimiterStub;

const settled = async (p: Promise<unknown>, ms: number) =>
  Promise.race([p.then(() => true), new Promise((r) => setTimeout(() => r(false), ms))]);

describe("rate limits in a Durable Object", () => {
  it("holds the concurrency cap across callers: a third caller waits for a release", async () => {
    const spec = { perMinute: 100, concurrent: 2, perDay: 1000 };
    const a = stubFor("xero:tenant:conc");
    const b = stubFor("xero:tenant:conc"); // another isolate's stub: the same object
    const one = await a.acquire(spec);
    const two = await b.acquire(spec);
    expect(one.ok && two.ok).toBe(true);
    const third = b.acquire(spec);
    expect(await settled(third, 300)).toBe(false);
    if (one.ok) await a.release(one.slot);
    expect(await settled(third, 2000)).toBe(true);
  });

  it("holds the per-minute window: the call over the limit waits", async () => {
    const spec = { perMinute: 3, concurrent: 10, perDay: 1000 };
    const s = stubFor("xero:tenant:minute");
    for (let i = 0; i < 3; i++) {
      const r = await s.acquire(spec);
      if (r.ok) await s.release(r.slot);
    }
    expect(await settled(s.acquire(spec), 500)).toBe(false);
  });

  it("spends the daily budget once for all callers, then answers rate_limited with when to resume", async () => {
    const spec = { perMinute: 100, concurrent: 10, perDay: 3 };
    const limiter = remoteRateLimiter(stubFor("xero:tenant:day"), spec);
    const other = remoteRateLimiter(stubFor("xero:tenant:day"), spec);
    await limiter.schedule(async () => 1);
    await other.schedule(async () => 2);
    await limiter.schedule(async () => 3);
    await expect(other.schedule(async () => 4)).rejects.toMatchObject({ kind: "rate_limited" });
    const r = await stubFor("xero:tenant:day").acquire(spec);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.retryAfterMs).toBeGreaterThan(0);
  });

  it("a Retry-After hold from one caller makes the others wait", async () => {
    const spec = { perMinute: 100, concurrent: 10, perDay: 1000 };
    const s = stubFor("xero:tenant:hold");
    await s.holdUntil(Date.now() + 60_000);
    expect(await settled(s.acquire(spec), 500)).toBe(false);
  });
});

describe("single-flight token refresh through a Durable Object lock", () => {
  it("two isolates needing a fresh token make one refresh call; the other waits in the lock and reads it", async () => {
    const { testDeps } = await import("./support");
    const { xeroOrg } = await import("./xero-fixture");
    const { createTokenKeeper } = await import("../src/sync/tokens");
    const { remoteRefreshLock } = await import("../connectors/remote-limiter");
    const { saveTokens } = await import("../src/store/connections");
    const { sealTokens } = await import("../src/store/connection-tokens");
    const deps = await testDeps();
    const { connection, xero } = await xeroOrg(deps, "refreshco", "tenant-refresh", 0);
    xero.restore();
    // The access token has run out.
    const now = Date.now();
    await saveTokens(
      deps.store.db,
      connection.id,
      await sealTokens(deps.sealer, { accessToken: "old", refreshToken: "r1", expiresAt: now - 1000 }),
      now - 1000,
      now,
    );
    let refreshes = 0;
    const keeper = () =>
      createTokenKeeper({
        db: deps.store.db,
        sealer: deps.sealer,
        clock: deps.clock,
        lock: remoteRefreshLock((holder) => stubFor(`xero:token:${holder}`)),
        async refresh(refreshToken) {
          refreshes++;
          expect(refreshToken).toBe("r1");
          await new Promise((r) => setTimeout(r, 200));
          return { accessToken: "new", refreshToken: "r2", expiresAt: Date.now() + 3_600_000 };
        },
        // The store lease would poll; with the lock it is never used.
        sleep: async () => {
          throw new Error("polled the store lease");
        },
      });
    const [a, b] = await Promise.all([
      keeper().accessToken(connection.id),
      keeper().accessToken(connection.id),
    ]);
    expect([a, b]).toEqual(["new", "new"]);
    expect(refreshes).toBe(1);
  });
});
