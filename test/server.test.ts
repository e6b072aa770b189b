import { describe, expect, it } from "vitest";
import { fixedClock } from "../src/clock";
import { loadConfig } from "../src/config";
import { silentLogger } from "../src/log";
import { startServer } from "../src/node";
import { listOrgs } from "../src/store/orgs";
import { testStore } from "./support/db";

describe("creditpulse serve", () => {
  it("seeds the demo organisation when no ledger is configured and serves the dashboard over HTTP", async () => {
    const store = testStore();
    const config = loadConfig({ CREDITPULSE_DB: ":memory:", PORT: "0", CREDITPULSE_SCHEDULER: "0" });
    const server = await startServer(config, {
      store,
      log: silentLogger,
      clock: fixedClock("2026-11-20T10:00:00Z"),
    });
    try {
      const health = await fetch(`${server.url}/healthz`);
      expect(health.status).toBe(200);
      const orgs = await listOrgs(store.db);
      expect(orgs.map((o) => [o.slug, o.isDemo])).toEqual([["demo", true]]);
      const page = await (await fetch(`${server.url}/orgs/demo`)).text();
      expect(page).toMatch(/Demo data\./);
      expect(page).toMatch(/Customers with open invoices/);
    } finally {
      await server.close();
      await store.close();
    }
  });

  it("does not seed demo data when Xero credentials are configured", async () => {
    const store = testStore();
    const config = loadConfig({
      CREDITPULSE_DB: ":memory:",
      PORT: "0",
      CREDITPULSE_SCHEDULER: "0",
      XERO_CLIENT_ID: "id",
      XERO_CLIENT_SECRET: "secret",
    });
    const server = await startServer(config, { store, log: silentLogger });
    try {
      expect(await listOrgs(store.db)).toEqual([]);
    } finally {
      await server.close();
      await store.close();
    }
  });
});
