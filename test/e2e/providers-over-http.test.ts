/**
 * The whole flow for both providers over real HTTP: connect (OAuth through the app) -> backfill -> incremental
 * -> credit-hold write-back, against fake Xero and QuickBooks servers listening on local ports and reached only
 * through the configurable endpoints (XERO_API_URL, XERO_IDENTITY_URL, QBO_API_URL, QBO_OAUTH_URL). No request
 * interception here: msw is never started in this file.
 */
import { eq } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { afterResponseIdle as quickbooksIdle } from "../../src/after-response";
import { fixedClock } from "../../src/clock";
import { createApp } from "../../src/http/app";
import { getConnection } from "../../src/store/connections";
import { listOrgs } from "../../src/store/orgs";
import { lastReconciliation } from "../../src/store/reconcile";
import { connections, contacts, invoices, payments } from "../../src/store/schema";
import { contextForOrg } from "../../src/sync/context";
import { syncOrgConnection } from "../../src/sync/sync-connections";
import { FakeQbo, QBO_ENV } from "../connectors/quickbooks/fake-qbo";
import { createFakeXero, type FakeXero, msDate } from "../connectors/xero/fake-xero";
import { seedLedger, XERO_ENV } from "../connectors/xero/harness";
import { signIn } from "../support/auth";
import { testDeps } from "../support/deps";
import { type Route, serveRoutes } from "../support/fake-routes";

const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const close of closers) await close();
});

const cookieOf = (res: Response) => (res.headers.get("set-cookie") ?? "").split(";")[0]!;

describe("Xero end to end over real HTTP", () => {
  it("connects, backfills, syncs changes, refreshes its token and writes a credit hold back", async () => {
    let fake: FakeXero | undefined;
    const routes = (): Route[] => fake?.routes ?? [];
    const api = await serveRoutes(routes);
    const identity = await serveRoutes(routes);
    closers.push(api.close, identity.close);
    const clock = fixedClock("2026-11-20T10:00:00Z");
    fake = await createFakeXero({ clock, apiUrl: api.origin, identityUrl: identity.origin });
    const ids = seedLedger(fake.data());
    const deps = await testDeps({
      clock,
      env: { ...XERO_ENV, XERO_API_URL: api.origin, XERO_IDENTITY_URL: identity.origin },
    });
    const app = createApp(deps);
    const s = await signIn(deps);

    // Connect: consent URL from the fake's discovery, code exchange and /connections over HTTP.
    const start = await app.request("/connect/xero", { headers: s.headers() });
    expect(start.status).toBe(302);
    const state = new URL(start.headers.get("location")!).searchParams.get("state")!;
    const cb = await app.request(`/connect/xero/callback?code=good-code&state=${encodeURIComponent(state)}`, {
      headers: { cookie: cookieOf(start) },
    });
    expect(cb.status).toBe(200);
    const pending = /name="pending" value="([^"]+)"/.exec(await cb.text())![1]!;
    const form = new URLSearchParams({ pending, tenant: fake.tenants[0]!.id });
    const chosen = await app.request("/connect/xero/tenants", {
      method: "POST",
      headers: s.headers({
        cookie: `${s.cookie}; ${cookieOf(start)}`,
        "content-type": "application/x-www-form-urlencoded",
      }),
      body: form.toString(),
    });
    expect(chosen.status).toBe(200);
    expect(fake.state.tokenCalls.map((t) => t.grant)).toEqual(["authorization_code"]);
    const [org] = await listOrgs(deps.store.db);
    expect(org).toMatchObject({ provider: "xero", baseCurrency: "NZD", timezone: "Pacific/Auckland" });

    // Backfill: started by the app right after the tenant was chosen.
    const conn0 = (await deps.store.db.select().from(connections))[0]!;
    for (let i = 0; i < 250 && !(await getConnection(deps.store.db, conn0.id))!.lastSyncAt; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect((await getConnection(deps.store.db, conn0.id))!.lastSyncAt).not.toBeNull();
    expect(await deps.store.db.select().from(invoices).where(eq(invoices.orgId, org!.id))).toHaveLength(7);
    expect(await deps.store.db.select().from(contacts).where(eq(contacts.orgId, org!.id))).toHaveLength(5);
    expect((await lastReconciliation(deps.store.db, org!.id))!.mismatched).toEqual([]);

    // Incremental: one invoice part-paid in Xero.
    clock.advance(15 * 60_000);
    fake.resetCounters();
    const inv3 = fake.data().Invoices.find((i) => i.InvoiceID === ids.inv(3))!;
    Object.assign(inv3, { AmountPaid: 500, AmountDue: 2000, UpdatedDateUTC: msDate(clock.now()) });
    const second = await syncOrgConnection(deps, org!.id);
    expect(second!.report.status).toBe("ok");
    expect(second!.report.entities.invoices.updated).toBe(1);
    expect(fake.apiCalls("/Invoices")[0]!.ifModifiedSince).not.toBeNull();
    const [row] = await deps.store.db
      .select()
      .from(invoices)
      .where(eq(invoices.externalId, ids.inv(3)));
    expect(row!.amountDueMinor).toBe(200_000);
    expect((await lastReconciliation(deps.store.db, org!.id))!.mismatched).toEqual([]);

    // The access token expires: the keeper refreshes it at the identity server, and sync goes on.
    clock.advance(40 * 60_000);
    expect((await syncOrgConnection(deps, org!.id))!.report.status).toBe("ok");
    expect(fake.state.tokenCalls.map((t) => t.grant)).toContain("refresh_token");

    // Credit hold write-back.
    const found = (await contextForOrg(deps, org!.id))!;
    await found.connector.placeHold(found.ctx, {
      contactExternalId: ids.c(2),
      note: "Placed on credit hold",
    });
    expect(fake.data().ContactGroups).toMatchObject([
      { Name: "Credit Hold", Contacts: [{ ContactID: ids.c(2) }] },
    ]);
    expect(fake.data().history.at(-1)).toEqual({
      path: `/Contacts/${ids.c(2)}`,
      details: "Placed on credit hold",
    });
    await found.connector.releaseHold(found.ctx, { contactExternalId: ids.c(2), note: "Released" });
    expect(fake.data().ContactGroups[0]!.Contacts).toEqual([]);
    const [conn] = await deps.store.db.select().from(connections);
    expect(conn!.status).toBe("active");
  });
});

describe("QuickBooks end to end over real HTTP", () => {
  it("connects, backfills, syncs changes and writes a credit hold back", async () => {
    let fake: FakeQbo | undefined;
    const routes = (): Route[] => fake?.routes() ?? [];
    const api = await serveRoutes(routes);
    const oauth = await serveRoutes(routes);
    closers.push(api.close, oauth.close);
    fake = new FakeQbo();
    fake.apiUrl = api.origin;
    fake.tokenUrl = `${oauth.origin}/oauth2/v1/tokens/bearer`;
    fake.revokeUrl = `${oauth.origin}/v2/oauth2/tokens/revoke`;
    const clock = fixedClock("2026-11-20T10:00:00Z");
    const deps = await testDeps({
      clock,
      env: { ...QBO_ENV, QBO_API_URL: api.origin, QBO_OAUTH_URL: oauth.origin },
    });
    const app = createApp(deps);
    const s = await signIn(deps);

    // Connect: Intuit's consent page moves under QBO_OAUTH_URL; the code is exchanged there.
    const start = await app.request("/connect/quickbooks", { headers: s.headers() });
    const location = new URL(start.headers.get("location")!);
    expect(location.origin + location.pathname).toBe(`${oauth.origin}/connect/oauth2`);
    const state = location.searchParams.get("state")!;
    const cb = await app.request(
      `/connect/quickbooks/callback?code=good-code&state=${encodeURIComponent(state)}&realmId=${fake.realmId}`,
      { headers: { cookie: cookieOf(start) } },
    );
    expect(cb.status).toBe(303);
    expect(fake.tokenCalls.map((t) => t.grant)).toEqual(["authorization_code"]);
    const [org] = await listOrgs(deps.store.db);
    expect(org).toMatchObject({
      provider: "quickbooks",
      name: "Harbourside Joinery Ltd",
      baseCurrency: "GBP",
    });

    // Backfill.
    const first = await syncOrgConnection(deps, org!.id);
    expect(first!.report.status).toBe("ok");
    expect(await deps.store.db.select().from(invoices).where(eq(invoices.orgId, org!.id))).toHaveLength(3);
    expect(await deps.store.db.select().from(payments).where(eq(payments.orgId, org!.id))).toHaveLength(2);
    expect((await lastReconciliation(deps.store.db, org!.id))!).toMatchObject({
      customersChecked: 3,
      mismatched: [],
    });

    // Incremental (change data capture): invoice 1001 part-paid.
    clock.advance(3_600_000);
    fake.calls = [];
    fake.put("Invoice", {
      ...fake.data.Invoice.get("101")!,
      Balance: 100,
      MetaData: { LastUpdatedTime: new Date(clock.now()).toISOString() },
    });
    fake.put("Customer", {
      ...fake.data.Customer.get("1")!,
      Balance: 500,
      MetaData: { LastUpdatedTime: new Date(clock.now()).toISOString() },
    });
    const second = await syncOrgConnection(deps, org!.id);
    expect(second!.report.status).toBe("ok");
    expect(fake.calls.map((c) => c.path)).toContain("/cdc");
    const [row] = await deps.store.db.select().from(invoices).where(eq(invoices.externalId, "101"));
    expect(row!.amountDueMinor).toBe(10_000);
    expect((await lastReconciliation(deps.store.db, org!.id))!.mismatched).toEqual([]);

    // Credit hold write-back into the customer's Notes.
    const found = (await contextForOrg(deps, org!.id))!;
    const placed = await found.connector.placeHold(found.ctx, {
      contactExternalId: "1",
      note: "Placed on credit hold: 2 invoices over 60 days late",
    });
    expect(placed.written).toBe(true);
    expect(String(fake.data.Customer.get("1")!.Notes)).toContain(
      "Placed on credit hold: 2 invoices over 60 days late",
    );
    await quickbooksIdle(deps);
    expect(
      (await getConnection(deps.store.db, (await deps.store.db.select().from(connections))[0]!.id))!.status,
    ).toBe("active");
  });
});
