/**
 * Cron -> enqueue -> consumer, in workerd against local D1: each cron tick only enqueues one message per
 * organisation (or user) and job; the consumer handles one message per invocation; a sync larger than its
 * page budget continues in the next message from its cursor; a held sync lease makes a second sync wait.
 */
import { and, count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobMessage } from "../src/jobs";
import { JOBS } from "../src/jobs";
import { sealTokens } from "../src/store/connection-tokens";
import { createConnection, getConnection, takeSyncLease } from "../src/store/connections";
import { ensureOrg } from "../src/store/orgs";
import { dashboardSummaries, invoices, scores } from "../src/store/schema";
import { contactRecord, type FakeXero, installFakeXero, invoiceRecord } from "./fake-xero";
import { seedOrg } from "./seed";
import { consume, drain, runCron, testDeps } from "./support";
import { worker } from "./worker";

const cronOf = (name: string) => JOBS.find((j) => j.name === name)!.cron;
const TOKEN = "xero-access-token-workers";

describe("jobs on Queues", () => {
  let deps: Awaited<ReturnType<typeof testDeps>>;
  let xero: FakeXero;
  let xeroOrgId: string;
  let csvOrgId: string;
  let connectionId: string;

  beforeAll(async () => {
    deps = await testDeps();
    csvOrgId = (await seedOrg(deps, "csvco")).id;
    const now = Date.now();
    const { org } = await ensureOrg(
      deps.store.db,
      {
        slug: "northwind",
        name: "Northwind",
        baseCurrency: "GBP",
        timezone: "Europe/London",
        provider: "xero",
      },
      now,
    );
    xeroOrgId = org.id;
    const sealed = await sealTokens(deps.sealer, {
      accessToken: TOKEN,
      refreshToken: "refresh",
      expiresAt: now + 3_600_000,
    } as never);
    connectionId = (
      await createConnection(
        deps.store.db,
        { orgId: org.id, provider: "xero", tenantId: "tenant-1", tenantName: "Northwind" },
        sealed,
        now + 3_600_000,
        now,
      )
    ).id;
    xero = installFakeXero(TOKEN);
    for (let c = 0; c < 3; c++)
      xero.data.Contacts!.push(contactRecord(`c-${c}`, `Buyer ${c}`, `ap${c}@buyer.test`, now - 86_400_000));
    for (let i = 0; i < 30; i++)
      xero.data.Invoices!.push(
        invoiceRecord({
          id: `inv-${i}`,
          contactId: `c-${i % 3}`,
          number: `NW-${i}`,
          date: "2026-09-01",
          due: "2026-10-01",
          total: 100 + i,
          updated: now - 86_400_000 + i,
        }),
      );
  });
  afterAll(() => xero.restore());

  it("the sync cron enqueues one message per connected organisation and does no syncing itself", async () => {
    const before = xero.calls.length;
    const sent = await runCron(cronOf("sync"), Date.now());
    expect(sent).toEqual([{ job: "sync", orgId: xeroOrgId, at: expect.any(Number) }]);
    expect(xero.calls.length).toBe(before);
  });

  it("a sync over its page budget continues from its cursor in the next message, then scores", async () => {
    const sent = await runCron(cronOf("sync"), Date.now());
    // One page per message: the sync spans several messages, each picking up from the saved cursor.
    const handled = await drain(sent, { SYNC_PAGES_PER_MESSAGE: "1" });
    expect(handled).toBeGreaterThan(2);
    const [n] = await deps.store.db
      .select({ n: count() })
      .from(invoices)
      .where(eq(invoices.orgId, xeroOrgId));
    expect(n!.n).toBe(30);
    const conn = await getConnection(deps.store.db, connectionId);
    expect(conn!.lastSyncAt).not.toBeNull();
    expect(conn!.syncLeaseOwner).toBeNull();
    // Each invoice was read once: no page was fetched twice across the messages.
    const invoicePages = xero.calls.filter((c) => c.path === "Invoices" && !c.query.IDs);
    expect(invoicePages.length).toBe(1);
    const [scored] = await deps.store.db
      .select({ n: count() })
      .from(scores)
      .where(eq(scores.orgId, xeroOrgId));
    expect(scored!.n).toBeGreaterThan(0);
  });

  it("a second sync while one holds the connection's lease does nothing and says busy", async () => {
    expect(
      await takeSyncLease(deps.store.db, connectionId, "someone-else", Date.now() + 60_000, Date.now()),
    ).toBe(true);
    const calls = xero.calls.length;
    const { result, sent } = await consume({ job: "sync", orgId: xeroOrgId, at: Date.now() });
    expect(result.explicitAcks).toHaveLength(1);
    expect(sent).toEqual([]);
    expect(xero.calls.length).toBe(calls);
    await deps.store.db
      .update((await import("../src/store/schema")).connections)
      .set({ syncLeaseOwner: null, syncLeaseUntil: null });
  });

  it("score, summaries and remind crons enqueue one message per organisation; the consumer does one each", async () => {
    const at = Date.now();
    for (const name of ["score", "summaries", "remind"] as const) {
      const sent = await runCron(cronOf(name), at);
      expect(sent.map((m) => m.job)).toEqual([name, name]);
      expect(new Set(sent.map((m) => ("orgId" in m ? m.orgId : "")))).toEqual(new Set([xeroOrgId, csvOrgId]));
    }
    await deps.store.db.delete(dashboardSummaries);
    const score = (await runCron(cronOf("score"), at)).find((m) => "orgId" in m && m.orgId === csvOrgId)!;
    const { result } = await consume(score);
    expect(result.explicitAcks).toHaveLength(1);
    const [csvScores] = await deps.store.db
      .select({ n: count() })
      .from(scores)
      .where(eq(scores.orgId, csvOrgId));
    expect(csvScores!.n).toBe(3);
    // Only the message's organisation was handled.
    const summaries = await deps.store.db.select().from(dashboardSummaries);
    expect(new Set(summaries.map((s) => s.orgId))).toEqual(new Set([csvOrgId]));
    const warm = (await runCron(cronOf("summaries"), at)).find((m) => "orgId" in m && m.orgId === xeroOrgId)!;
    await consume(warm);
    const after = await deps.store.db
      .select()
      .from(dashboardSummaries)
      .where(and(eq(dashboardSummaries.orgId, xeroOrgId)));
    expect(after.length).toBeGreaterThan(0);
  });

  it("a failing message is retried with backoff, not acknowledged", async () => {
    const broken = { job: "score", orgId: csvOrgId, at: Number.NaN } as JobMessage;
    const { result } = await consume(broken, {}, 2);
    expect(result.retryMessages).toHaveLength(1);
    expect(result.explicitAcks).toHaveLength(0);
    // Backoff: 30 s, then doubling, capped at 15 minutes (the pool does not report the delay it was given).
    expect([1, 2, 3, 10].map(worker.retryDelaySeconds)).toEqual([30, 60, 120, 900]);
  });
});

describe("a 1,000-customer organisation on D1", () => {
  it("is scored by one score message within D1's 100 bound parameters per statement", async () => {
    const deps = await testDeps();
    const big = await seedOrg(deps, "bigco", { customers: 1000 });
    const msg = (await runCron(cronOf("score"), Date.now())).find((m) => "orgId" in m && m.orgId === big.id)!;
    const { result } = await consume(msg);
    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toHaveLength(0);
    const [n] = await deps.store.db.select({ n: count() }).from(scores).where(eq(scores.orgId, big.id));
    expect(n!.n).toBe(1000);
  });
});
