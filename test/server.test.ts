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
      // No accounts yet: the server offers a one-time setup link, which creates the owner of the demo.
      expect(server.setupUrl).toMatch(/\/setup\?token=/);
      const setupPage = await fetch(server.setupUrl!);
      const cookie = (setupPage.headers.get("set-cookie") ?? "").split(";")[0]!;
      const csrf = (await setupPage.text()).match(/name="_csrf" value="([^"]+)"/)?.[1] ?? "";
      const created = await fetch(`${server.url}/setup`, {
        method: "POST",
        redirect: "manual",
        headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          _csrf: csrf,
          token: new URL(server.setupUrl!).searchParams.get("token")!,
          email: "owner@example.com",
          password: "correct horse battery",
          timezone: "Europe/London",
        }),
      });
      expect(created.status).toBe(303);
      const session = (created.headers.get("set-cookie") ?? "").split(";")[0]!;
      const page = await (await fetch(`${server.url}/orgs/demo`, { headers: { cookie: session } })).text();
      expect(page).toMatch(/Demo data\./);
      expect(page).toMatch(/Customers by risk/);
      // Signed out, the dashboard sends you to sign in.
      const anon = await fetch(`${server.url}/orgs/demo`, {
        redirect: "manual",
        headers: { accept: "text/html" },
      });
      expect(anon.status).toBe(303);
      expect(anon.headers.get("location")).toMatch(/^\/login\?next=/);
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
