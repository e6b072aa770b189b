import { eq } from "drizzle-orm";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { signHmacSha256Base64 } from "../../../connectors/hmac";
import { afterResponseIdle } from "../../../src/after-response";
import { createApp } from "../../../src/http/app";
import { dateInZone } from "../../../src/model";
import { unsealTokens } from "../../../src/store/connection-tokens";
import { ledgerVersionOf, readDashboardSummary } from "../../../src/store/dashboard-summary";
import { connections, invoices, organisations, webhookEvents } from "../../../src/store/schema";
import { contextForOrg } from "../../../src/sync/context";
import { syncConnection } from "../../../src/sync/sync-connections";
import { signIn, type TestSession } from "../../support/auth";
import { msDate, organisationRecord, WEBHOOK_KEY } from "./fake-xero";
import { seedLedger, xeroHarness } from "./harness";

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const TENANTS = [
  {
    id: "fe79f7dd-b6d4-4a92-ba7b-538af6289c58",
    connectionId: "7cb59f93-2964-421d-bb5e-a0f7a4572a44",
    name: "Demo Company (NZ)",
    organisation: organisationRecord({
      id: "fe79f7dd-b6d4-4a92-ba7b-538af6289c58",
      name: "Demo Company (NZ)",
    }),
  },
  {
    id: "0a1b2c3d-0000-4000-8000-000000000002",
    connectionId: "0a1b2c3d-0000-4000-8000-0000000000c2",
    name: "Kiwi Widgets Ltd",
    organisation: organisationRecord({
      id: "0a1b2c3d-0000-4000-8000-000000000002",
      name: "Kiwi Widgets Ltd",
      currency: "AUD",
      timezone: "AUSEASTERNSTANDARDTIME",
      country: "AU",
    }),
  },
];

const cookieOf = (res: Response) => (res.headers.get("set-cookie") ?? "").split(";")[0]!;

async function startConnect(app: ReturnType<typeof createApp>, s: TestSession) {
  const res = await app.request("/connect/xero", { headers: { cookie: s.cookie, "x-csrf-token": s.csrf } });
  expect(res.status).toBe(302);
  const location = new URL(res.headers.get("location")!);
  return { res, location, cookie: cookieOf(res), state: location.searchParams.get("state")! };
}

describe("Connect Xero (OAuth through the HTTP app)", () => {
  it("redirects to Xero with granular scopes and a signed state, then connects the chosen tenants", async () => {
    const h = await xeroHarness({ fake: { tenants: TENANTS } });
    server.use(...h.fake.handlers);
    const app = createApp(h.deps);
    const s = await signIn(h.deps);
    const { location, cookie, state } = await startConnect(app, s);
    expect(location.origin + location.pathname).toBe("https://login.xero.com/identity/connect/authorize");
    expect(location.searchParams.get("redirect_uri")).toBe(
      "https://creditpulse.example.com/connect/xero/callback",
    );
    expect(location.searchParams.get("scope")!.split(" ")).toEqual(
      expect.arrayContaining([
        "offline_access",
        "accounting.invoices",
        "accounting.payments.read",
        "accounting.contacts",
        "accounting.settings.read",
      ]),
    );
    expect(location.searchParams.get("response_type")).toBe("code");

    const cb = await app.request(`/connect/xero/callback?code=good-code&state=${encodeURIComponent(state)}`, {
      headers: { cookie },
    });
    expect(cb.status).toBe(200);
    const html = await cb.text();
    expect(html).toContain("Demo Company (NZ)");
    expect(html).toContain("Kiwi Widgets Ltd");
    expect(await h.deps.store.db.select().from(connections)).toHaveLength(0); // nothing until the user chooses
    const pending = /name="pending" value="([^"]+)"/.exec(html)![1]!;

    const form = new URLSearchParams();
    form.set("pending", pending);
    form.append("tenant", TENANTS[0]!.id);
    form.append("tenant", TENANTS[1]!.id);
    const done = await app.request("/connect/xero/tenants", {
      method: "POST",
      headers: {
        cookie: `${s.cookie}; ${cookie}`,
        "x-csrf-token": s.csrf,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: form.toString(),
    });
    expect(done.status).toBe(200);
    const orgs = await h.deps.store.db.select().from(organisations);
    expect(orgs.map((o) => [o.slug, o.baseCurrency, o.timezone, o.country, o.provider]).sort()).toEqual([
      ["demo-company-nz", "NZD", "Pacific/Auckland", "NZ", "xero"],
      ["kiwi-widgets-ltd", "AUD", "Australia/Sydney", "AU", "xero"],
    ]);
    const conns = await h.deps.store.db.select().from(connections);
    const holder = conns.find((c) => c.sealedTokens)!;
    const sibling = conns.find((c) => !c.sealedTokens)!;
    expect(sibling.tokenConnectionId).toBe(holder.id); // one consent, one (single-use) token set
    expect(holder.sealedTokens).not.toContain("access-");
    expect(holder.sealedTokens).not.toContain("refresh-");
    expect((await unsealTokens(h.deps.sealer, holder.sealedTokens!)).refreshToken).toMatch(/^refresh-/);
    expect(h.fake.state.tokenCalls.map((t) => t.grant)).toEqual(["authorization_code"]);
    // The backfill starts after the page is sent.
    await vi.waitFor(async () => {
      const rows = await h.deps.store.db.select().from(connections);
      expect(rows.every((r) => r.lastSyncAt !== null)).toBe(true);
    });
  });

  it("refuses a forged, expired or other-session state with 400 and stores nothing", async () => {
    const h = await xeroHarness();
    server.use(...h.fake.handlers);
    const app = createApp(h.deps);
    const s = await signIn(h.deps);
    const { cookie, state } = await startConnect(app, s);
    const forged = `${state.slice(0, -4)}AAAA`;
    const r1 = await app.request(`/connect/xero/callback?code=good-code&state=${forged}`, {
      headers: { cookie },
    });
    expect(r1.status).toBe(400);
    const other = await startConnect(app, s);
    const r2 = await app.request(`/connect/xero/callback?code=good-code&state=${encodeURIComponent(state)}`, {
      headers: { cookie: other.cookie },
    });
    expect(r2.status).toBe(400);
    const r3 = await app.request(`/connect/xero/callback?code=good-code&state=${encodeURIComponent(state)}`);
    expect(r3.status).toBe(400);
    h.clock.advance(11 * 60_000);
    const r4 = await app.request(`/connect/xero/callback?code=good-code&state=${encodeURIComponent(state)}`, {
      headers: { cookie },
    });
    expect(r4.status).toBe(400);
    expect(h.fake.state.tokenCalls).toHaveLength(0);
    expect(await h.deps.store.db.select().from(connections)).toHaveLength(0);
    expect(await h.deps.store.db.select().from(organisations)).toHaveLength(0);
  });

  it("disconnects: revokes the token and stops syncing", async () => {
    const h = await xeroHarness();
    server.use(...h.fake.handlers);
    const [{ org, connection }] = (await h.connect()) as [Awaited<ReturnType<typeof h.connect>>[0]];
    const app = createApp(h.deps);
    const s = await signIn(h.deps); // owner of the organisations that now exist
    const res = await app.request(`/orgs/${org.slug}/disconnect`, { method: "POST", headers: s.headers() });
    expect(res.status).toBe(303);
    expect(h.fake.state.revoked).toHaveLength(1);
    const [row] = await h.deps.store.db.select().from(connections).where(eq(connections.id, connection.id));
    expect(row).toMatchObject({ status: "disconnected", sealedTokens: null });
  });
});

describe("Xero webhooks", () => {
  async function setup() {
    const h = await xeroHarness();
    server.use(...h.fake.handlers);
    const ids = seedLedger(h.fake.data());
    const [first] = await h.connect();
    await syncConnection(h.deps, first!.connection);
    return { ...h, ids, app: createApp(h.deps), org: first!.org };
  }
  const post = async (app: ReturnType<typeof createApp>, body: string, signature?: string) =>
    app.request("/webhooks/xero", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-xero-signature": signature ?? (await signHmacSha256Base64(WEBHOOK_KEY, body)),
      },
      body,
    });

  it("answers intent-to-receive: 200 with an empty body when signed, 401 when not", async () => {
    const h = await setup();
    const body = JSON.stringify({
      events: [],
      firstEventSequence: 0,
      lastEventSequence: 0,
      entropy: "XSDZNVLQMKKCPIRA",
    });
    const ok = await post(h.app, body);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe("");
    const bad = await post(h.app, body, await signHmacSha256Base64("wrong-key", body));
    expect(bad.status).toBe(401);
    expect(await bad.text()).toBe("");
  });

  it("re-pulls the changed invoice after answering, once per event even when Xero redelivers it", async () => {
    const h = await setup();
    const inv = h.fake.data().Invoices.find((i) => i.InvoiceNumber === "INV-0003")!;
    Object.assign(inv, {
      AmountPaid: 2500,
      AmountDue: 0,
      Status: "PAID",
      UpdatedDateUTC: msDate(h.clock.now()),
    });
    h.fake.resetCounters();
    const [row0] = await h.deps.store.db.select().from(invoices).where(eq(invoices.number, "INV-0003"));
    const versionBefore = await ledgerVersionOf(h.deps.store.db, row0!.orgId);
    const body = JSON.stringify({
      events: [
        {
          resourceUrl: `https://api.xero.com/api.xro/2.0/Invoices/${inv.InvoiceID}`,
          resourceId: inv.InvoiceID,
          eventDateUtc: "2026-11-20T10:00:01.123",
          eventType: "UPDATE",
          eventCategory: "INVOICE",
          tenantId: h.fake.tenants[0]!.id,
          tenantType: "ORGANISATION",
        },
      ],
      firstEventSequence: 1,
      lastEventSequence: 1,
      entropy: "S0m3r4Nd0mt3xt",
    });
    const res = await post(h.app, body);
    expect(res.status).toBe(200);
    await vi.waitFor(async () => {
      const [row] = await h.deps.store.db.select().from(invoices).where(eq(invoices.number, "INV-0003"));
      expect(row!.status).toBe("paid");
    });
    expect(h.fake.apiCalls("/Invoices")[0]!.query.IDs).toBe(inv.InvoiceID);
    await vi.waitFor(async () => {
      const [e] = await h.deps.store.db.select().from(webhookEvents);
      expect(e!.processedAt).not.toBeNull();
    });
    // The re-pull changed the ledger, and the dashboard's figures were recomputed for it straight away.
    const [org] = await h.deps.store.db.select().from(organisations).where(eq(organisations.id, row0!.orgId));
    const today = dateInZone(h.clock.now(), org!.timezone);
    const summary = await readDashboardSummary(h.deps.store.db, org!.id, today);
    expect(summary, "figures warm at the new ledger version").toBeDefined();
    expect(await ledgerVersionOf(h.deps.store.db, org!.id)).toBeGreaterThan(versionBefore);

    const again = await post(h.app, body);
    expect(again.status).toBe(200);
    // Whatever the duplicate started after its response has finished (nothing, when it is dropped).
    await afterResponseIdle(h.deps);
    expect(h.fake.apiCalls("/Invoices")).toHaveLength(1);
    expect(await h.deps.store.db.select().from(webhookEvents)).toHaveLength(1);
  });

  it("refuses a forged delivery and records nothing", async () => {
    const h = await setup();
    const body = JSON.stringify({
      events: [
        { resourceId: "x", eventCategory: "INVOICE", eventType: "UPDATE", tenantId: h.fake.tenants[0]!.id },
      ],
    });
    const res = await post(h.app, body, "bm90IGEgc2lnbmF0dXJlIG9mIHRoaXMgYm9keSBhdCBhbGwhIQ==");
    expect(res.status).toBe(401);
    expect(await h.deps.store.db.select().from(webhookEvents)).toHaveLength(0);
  });
});

describe("Xero write-back", () => {
  it("places and releases a credit hold: the Credit Hold group (created once) plus History notes", async () => {
    const h = await xeroHarness();
    server.use(...h.fake.handlers);
    const ids = seedLedger(h.fake.data());
    const [first] = await h.connect();
    const found = (await contextForOrg(h.deps, first!.org.id))!;
    const contactId = ids.c(2);
    const long = `Placed on credit hold on 2026-11-20: 2 invoices over 60 days late. ${"x".repeat(3000)}`;
    const placed = await found.connector.placeHold(found.ctx, { contactExternalId: contactId, note: long });
    expect(placed.written).toBe(true);
    const data = h.fake.data();
    expect(data.ContactGroups).toHaveLength(1);
    expect(data.ContactGroups[0]).toMatchObject({
      Name: "Credit Hold",
      Contacts: [{ ContactID: contactId }],
    });
    expect(data.history[0]!.path).toBe(`/Contacts/${contactId}`);
    expect(data.history[0]!.details.length).toBeLessThanOrEqual(2500);

    await found.connector.placeHold(found.ctx, { contactExternalId: ids.c(3), note: "Placed on hold" });
    expect(h.fake.apiCalls("/ContactGroups").filter((c) => c.method === "PUT")).toHaveLength(1); // made once

    const released = await found.connector.releaseHold(found.ctx, {
      contactExternalId: contactId,
      note: "Released: paid up",
    });
    expect(released.written).toBe(true);
    expect(data.ContactGroups[0]!.Contacts).toEqual([{ ContactID: ids.c(3) }]);
    expect(data.history.at(-1)).toEqual({ path: `/Contacts/${contactId}`, details: "Released: paid up" });
    expect(h.fake.state.calls.some((c) => c.method === "POST" && c.path.startsWith("/Contacts"))).toBe(false); // never archives

    await found.connector.noteReminder!(found.ctx, ids.inv(3), "Reminder 1 sent to accounts@city.example");
    expect(data.history.at(-1)!.path).toBe(`/Invoices/${ids.inv(3)}`);
  });
});
