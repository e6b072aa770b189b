import { eq } from "drizzle-orm";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Deps } from "../../../src/deps";
import { sealTokens, unsealTokens } from "../../../src/store/connection-tokens";
import { getConnection, getCursor, saveTokens } from "../../../src/store/connections";
import { auditLog, invoices } from "../../../src/store/schema";
import { configureQuickbooks, quickbooksFor } from "../../../src/sync/quickbooks";
import { connectedOrg, FakeQbo, fixture, qboDeps, respond } from "./fake-qbo";

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

async function expireAccessToken(deps: Deps, connectionId: string, refreshToken = "rt-0") {
  const t = { accessToken: "at-0", refreshToken, expiresAt: deps.clock.now() - 1000 };
  await saveTokens(
    deps.store.db,
    connectionId,
    await sealTokens(deps.sealer, t),
    t.expiresAt,
    deps.clock.now(),
  );
}

describe("QuickBooks limits: throttling and server errors", () => {
  it("backs off on 429 (honouring Retry-After) and on fault 3001, then finishes the sync", async () => {
    const fake = new FakeQbo();
    server.use(...fake.handlers());
    const { deps, service, sleeps } = await qboDeps();
    const { org, connection } = await connectedOrg(deps, fake);
    const throttled = fixture("error-429-throttled.creditpulse.json");
    fake.faults.push(respond(429, throttled, { "Retry-After": "7" }), respond(403, throttled));
    const report = await service.sync(connection);
    expect(report.status).toBe("ok");
    expect(sleeps).toEqual([7000, 2000]);
    expect(fake.calls).toHaveLength(6);
    expect(await deps.store.db.select().from(invoices).where(eq(invoices.orgId, org.id))).toHaveLength(3);
  });

  it("retries 5xx with jittered backoff, and stops the sync (cursor kept) when they persist", async () => {
    const fake = new FakeQbo();
    server.use(...fake.handlers());
    const { deps, service, sleeps } = await qboDeps();
    const { org, connection } = await connectedOrg(deps, fake);
    fake.faults.push(respond(500, {}), respond(503, {}));
    expect((await service.sync(connection)).status).toBe("ok");
    expect(sleeps).toEqual([250, 500]);

    fake.faults = Array.from({ length: 20 }, () => respond(502, {}));
    const before = await getCursor(deps.store.db, org.id, "contacts");
    const report = await service.sync(connection, { full: true, entities: ["contacts"] });
    expect(report.status).toBe("failed");
    expect(await getCursor(deps.store.db, org.id, "contacts")).toBe(before);
  });

  it("never has more than 10 requests in flight for one realm", async () => {
    const fake = new FakeQbo();
    server.use(...fake.handlers());
    const { deps, service } = await qboDeps();
    const { connection } = await connectedOrg(deps, fake);
    const ctx = service.context(connection);
    await Promise.all(
      Array.from({ length: 30 }, () =>
        service.api.query(ctx, "SELECT * FROM Invoice STARTPOSITION 1 MAXRESULTS 1"),
      ),
    );
    expect(service.api.limiterFor(connection.tenantId).peakConcurrent).toBe(10);
    expect(service.api.calls).toBe(30);
  });
});

describe("QuickBooks tokens", () => {
  it("refreshes an expiring token, keeping the rotated refresh token", async () => {
    const fake = new FakeQbo();
    server.use(...fake.handlers());
    const { deps, service } = await qboDeps();
    const { connection } = await connectedOrg(deps, fake);
    await expireAccessToken(deps, connection.id);
    expect((await service.sync(connection)).status).toBe("ok");
    expect(fake.tokenCalls).toEqual([{ grant: "refresh_token", refreshToken: "rt-0" }]);
    const conn = await getConnection(deps.store.db, connection.id);
    expect(await unsealTokens(deps.sealer, conn!.sealedTokens!)).toMatchObject({
      accessToken: "at-1",
      refreshToken: "rt-1",
    });
  });

  it("a revoked refresh token marks only that connection needs_reconnect and tells the owner", async () => {
    const fake = new FakeQbo();
    server.use(...fake.handlers());
    const { deps, service } = await qboDeps();
    const bad = await connectedOrg(deps, fake, "revoked-co", "9130350000000002");
    const good = await connectedOrg(deps, fake, "healthy-co");
    await expireAccessToken(deps, bad.connection.id, "rt-revoked");

    const report = await service.sync(bad.connection);
    expect(report.status).toBe("needs_reconnect");
    expect((await getConnection(deps.store.db, bad.connection.id))!.status).toBe("needs_reconnect");
    const audits = await deps.store.db.select().from(auditLog).where(eq(auditLog.orgId, bad.org.id));
    expect(audits.map((a) => a.action)).toEqual(["quickbooks.needs_reconnect"]);
    expect(fake.calls).toHaveLength(0);

    expect((await service.sync(good.connection)).status).toBe("ok");
    expect((await getConnection(deps.store.db, good.connection.id))!.status).toBe("active");
  });

  it("concurrent refreshes in two processes make one token call", async () => {
    const fake = new FakeQbo();
    fake.tokenDelayMs = 30;
    server.use(...fake.handlers());
    const { deps } = await qboDeps();
    const { connection } = await connectedOrg(deps, fake);
    await expireAccessToken(deps, connection.id);
    const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.min(ms, 5)));
    const procA: Deps = { ...deps };
    const procB: Deps = { ...deps };
    configureQuickbooks(procA, { owner: "proc-a", sleep: realSleep });
    configureQuickbooks(procB, { owner: "proc-b", sleep: realSleep });
    const a = quickbooksFor(procA)!;
    const b = quickbooksFor(procB)!;
    const tokens = await Promise.all([
      ...Array.from({ length: 5 }, () => a.keeper.accessToken(connection.id)),
      ...Array.from({ length: 5 }, () => b.keeper.accessToken(connection.id)),
    ]);
    expect(fake.tokenCalls).toHaveLength(1);
    expect(new Set(tokens)).toEqual(new Set(["at-1"]));
    const conn = await getConnection(deps.store.db, connection.id);
    expect((await unsealTokens(deps.sealer, conn!.sealedTokens!)).refreshToken).toBe("rt-1");
  });
});
