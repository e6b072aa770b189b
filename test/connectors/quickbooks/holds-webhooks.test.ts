import { eq } from "drizzle-orm";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { signHmacSha256Base64 } from "../../../connectors/hmac";
import { mergeHoldNote, NOTES_MAX } from "../../../connectors/quickbooks/holds";
import { afterResponseIdle as quickbooksIdle } from "../../../src/after-response";
import { createApp } from "../../../src/http/app";
import { invoices, webhookEvents } from "../../../src/store/schema";
import { connectedOrg, FakeQbo, fixture, QBO_ENV, qboDeps } from "./fake-qbo";

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

describe("QuickBooks credit holds", () => {
  it("places and releases a hold in the customer's Notes, re-reading after a stale SyncToken, never inactivating", async () => {
    const fake = new FakeQbo();
    fake.put("Customer", { ...fake.data.Customer.get("1")!, CustomerTypeRef: { value: "4" } });
    server.use(...fake.handlers());
    const { deps, service } = await qboDeps();
    const { connection } = await connectedOrg(deps, fake);
    const ctx = service.context(connection);
    const userNotes = fake.data.Customer.get("1")!.Notes;

    // Someone edits the customer in QBO between our read and our write: the first save is stale.
    fake.beforeSave = () => {
      fake.beforeSave = undefined;
      const c = fake.data.Customer.get("1")!;
      fake.put("Customer", { ...c, SyncToken: String(Number(c.SyncToken) + 1) });
    };
    const placed = await service.connector.placeHold(ctx, {
      contactExternalId: "1",
      note: "2 invoices over 60 days late",
    });
    expect(placed.written).toBe(true);
    const saves = fake.apiCalls("/customer").filter((c) => c.method === "POST");
    expect(saves).toHaveLength(2);
    expect(fake.apiCalls("/customer/1")).toHaveLength(2);
    let c = fake.data.Customer.get("1")!;
    expect(c.Notes).toBe(
      `${userNotes}\n[Creditpulse] 2026-11-20 credit hold placed: 2 invoices over 60 days late {prev-type:4}`,
    );
    expect(c.CustomerTypeRef).toEqual({ value: "7" });
    expect(c.Active).toBe(true);

    const released = await service.connector.releaseHold(ctx, {
      contactExternalId: "1",
      note: "paid in full",
    });
    expect(released.written).toBe(true);
    c = fake.data.Customer.get("1")!;
    expect(c.Notes).toBe(
      `${userNotes}\n[Creditpulse] 2026-11-20 credit hold placed: 2 invoices over 60 days late {prev-type:4}\n[Creditpulse] 2026-11-20 credit hold released: paid in full`,
    );
    expect(c.CustomerTypeRef).toEqual({ value: "4" });
    for (const s of fake.apiCalls("/customer").filter((x) => x.method === "POST")) {
      expect(s.body).toMatchObject({ sparse: true });
      expect(s.body).not.toHaveProperty("Active");
    }
  });

  it("keeps notes within 2,000 characters by dropping our oldest lines, never the user's text", () => {
    const user = "x".repeat(1800);
    let notes: string | null = user;
    for (let i = 0; i < 10; i++)
      notes = mergeHoldNote(notes, `[Creditpulse] 2026-11-${10 + i} credit hold placed: reason ${i}`);
    expect(notes!.length).toBeLessThanOrEqual(NOTES_MAX);
    expect(notes!.startsWith(`${user}\n[Creditpulse]`)).toBe(true);
    expect(notes).toContain("reason 9");
    expect(notes).not.toContain("reason 0");
    expect(mergeHoldNote("y".repeat(1990), "[Creditpulse] 2026-11-20 credit hold placed: late")).toBeNull();
  });
});

async function signed(body: string) {
  return signHmacSha256Base64(QBO_ENV.QBO_WEBHOOK_VERIFIER, body);
}

describe("QuickBooks webhooks", () => {
  async function setup() {
    const fake = new FakeQbo();
    server.use(...fake.handlers());
    const q = await qboDeps();
    const { org, connection } = await connectedOrg(q.deps, fake);
    await q.service.sync(connection);
    fake.calls = [];
    q.clock.advance(3_600_000);
    const app = createApp(q.deps);
    return { ...q, fake, org, app };
  }

  const event = (realm: string, id = "evt-1") =>
    JSON.stringify([
      {
        ...fixture<Record<string, unknown>[]>("webhook-cloudevents-customer-created.json")[0],
        id,
        type: "qbo.invoice.updated.v1",
        intuitentityid: "101",
        intuitaccountid: realm,
      },
    ]);

  it("answers a signed CloudEvents delivery, then re-pulls the changed invoice once, ignoring the duplicate", async () => {
    const { app, fake, deps, clock, org } = await setup();
    fake.put("Invoice", {
      ...fake.data.Invoice.get("101")!,
      Balance: 100,
      MetaData: { LastUpdatedTime: new Date(clock.now()).toISOString() },
    });
    const body = event(fake.realmId);
    const post = async () =>
      app.request("/webhooks/quickbooks", {
        method: "POST",
        body,
        headers: { "content-type": "application/cloudevents+json", "intuit-signature": await signed(body) },
      });
    const res = await post();
    expect(res.status).toBe(200);
    await quickbooksIdle(deps);
    expect(fake.calls.map((c) => c.path)).toEqual(["/cdc"]);
    const [inv] = await deps.store.db.select().from(invoices).where(eq(invoices.externalId, "101"));
    expect(inv).toMatchObject({ orgId: org.id, amountDueMinor: 10000, amountPaidMinor: 26207 });
    const [ev] = await deps.store.db.select().from(webhookEvents);
    expect(ev).toMatchObject({ provider: "quickbooks", eventId: "evt-1", orgId: org.id });
    expect(ev!.processedAt).not.toBeNull();

    expect((await post()).status).toBe(200);
    await quickbooksIdle(deps);
    expect(fake.calls).toHaveLength(1);
  });

  it("accepts application/json and the recorded delivery for an unknown company without pulling anything", async () => {
    const { app, fake, deps } = await setup();
    const body = JSON.stringify(fixture("webhook-cloudevents-customer-created.json"));
    const res = await app.request("/webhooks/quickbooks", {
      method: "POST",
      body,
      headers: { "content-type": "application/json", "intuit-signature": await signed(body) },
    });
    expect(res.status).toBe(200);
    await quickbooksIdle(deps);
    expect(fake.calls).toHaveLength(0);
    const rows = await deps.store.db.select().from(webhookEvents);
    expect(rows.map((r) => [r.eventId, r.orgId])).toEqual([["88cd52aa-33b6-4351-9aa4-47572edbd068", null]]);
  });

  it("refuses a forged signature and records nothing", async () => {
    const { app, fake, deps } = await setup();
    const body = event(fake.realmId);
    const forged = await signHmacSha256Base64("not-the-verifier", body);
    for (const sig of [forged, undefined, "bm90IGJhc2U2NA=="]) {
      const res = await app.request("/webhooks/quickbooks", {
        method: "POST",
        body,
        headers: {
          "content-type": "application/cloudevents+json",
          ...(sig ? { "intuit-signature": sig } : {}),
        },
      });
      expect(res.status).toBe(401);
    }
    await quickbooksIdle(deps);
    expect(await deps.store.db.select().from(webhookEvents)).toEqual([]);
    expect(fake.calls).toHaveLength(0);
  });

  it("refuses other content types", async () => {
    const { app, fake } = await setup();
    const body = event(fake.realmId);
    const res = await app.request("/webhooks/quickbooks", {
      method: "POST",
      body,
      headers: { "content-type": "text/plain", "intuit-signature": await signed(body) },
    });
    expect(res.status).toBe(415);
  });
});
