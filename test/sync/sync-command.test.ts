import { eq } from "drizzle-orm";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { JOBS } from "../../src/jobs";
import { getConnection } from "../../src/store/connections";
import { warmTodaysSummary } from "../../src/store/dashboard-summary";
import { scores } from "../../src/store/schema";
import { seedLedger, XERO_ENV, xeroHarness } from "../connectors/xero/harness";
import { runCli } from "../support/cli";
import { TEST_SECRET } from "../support/deps";

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

describe("sync by hand and on schedule", () => {
  it("`creditpulse sync --org <slug> --json` syncs through the registry and reports per entity", async () => {
    const h = await xeroHarness();
    server.use(...h.fake.handlers);
    seedLedger(h.fake.data());
    const [first] = await h.connect();
    const { code, stdout } = await runCli(
      ["sync", "--org", first!.org.slug, "--json"],
      h.deps.store,
      h.clock,
      {
        env: { ...XERO_ENV, LOG_LEVEL: "silent", CREDITPULSE_SECRET: TEST_SECRET },
      },
    );
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({ org: first!.org.slug, provider: "xero", status: "ok" });
    expect(report.entities.invoices.created).toBe(7);
    // Scores follow each sync, so the dashboard and alerts keep up with the ledger.
    const stored = await h.deps.store.db.select().from(scores).where(eq(scores.orgId, first!.org.id));
    expect(stored.length).toBeGreaterThan(0);
    // And the dashboard's figures are computed for the new ledger, so its pages find them warm.
    expect(await warmTodaysSummary(h.deps.store, first!.org, h.clock.now())).toBe("cache");
  });

  it("the 15-minute job syncs every active connection; a revoked one does not stop the others", async () => {
    const h = await xeroHarness({
      fake: {
        tenants: [
          {
            id: "t-1",
            connectionId: "c-1",
            name: "One",
            organisation: { Name: "One", BaseCurrency: "NZD", Timezone: "NEWZEALANDSTANDARDTIME" },
          },
          {
            id: "t-2",
            connectionId: "c-2",
            name: "Two",
            organisation: { Name: "Two", BaseCurrency: "NZD", Timezone: "NEWZEALANDSTANDARDTIME" },
          },
        ],
      },
    });
    server.use(...h.fake.handlers);
    seedLedger(h.fake.data("t-1"));
    seedLedger(h.fake.data("t-2"));
    const [one] = await h.connect([0]);
    h.fake.revokeAll(); // the first consent's tokens stop working
    const [two] = await h.connect([1]);
    const job = JOBS.find((j) => j.name === "sync")!;
    expect(job.cron).toBe("*/15 * * * *");
    await job.run({ deps: h.deps, now: h.clock.now() });
    expect((await getConnection(h.deps.store.db, one!.connection.id))!.status).toBe("needs_reconnect");
    const t = (await getConnection(h.deps.store.db, two!.connection.id))!;
    expect(t.status).toBe("active");
    expect(t.lastSyncAt).toBe(h.clock.now());
  });
});
