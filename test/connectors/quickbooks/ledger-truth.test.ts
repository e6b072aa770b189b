/**
 * Issue 14, QuickBooks: settle dates, credit applied through a Payment, quarantine all-or-nothing and retried,
 * 401s, webhook re-pulls retried, and reconciliation against Customer.Balance, on recorded-shape data
 * (test/fixtures/quickbooks plus records modelled on the recorded sandbox Payment that links an Invoice and a
 * CreditMemo: TotalAmt 0, "Created by QB Online to link credits to charges.").
 */

import { and, eq } from "drizzle-orm";
import { HttpResponse } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { signHmacSha256Base64 } from "../../../connectors/hmac";
import { afterResponseIdle as quickbooksIdle } from "../../../src/after-response";
import { createApp } from "../../../src/http/app";
import { restrictToAsOf } from "../../../src/monitor/as-of";
import { getConnection } from "../../../src/store/connections";
import { loadMonitorInput } from "../../../src/store/monitor-input";
import {
  contacts,
  creditNoteAllocations,
  invoices,
  payments,
  quarantinedRecords,
  webhookEvents,
} from "../../../src/store/schema";
import { reconcileOrg } from "../../../src/sync/reconcile";
import { syncConnection } from "../../../src/sync/sync-connections";
import { connectedOrg, FakeQbo, fixture, QBO_ENV, qboDeps } from "./fake-qbo";

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const meta = (t: string) => ({ CreateTime: t, LastUpdatedTime: t });
const GBP = { value: "GBP", name: "British Pound Sterling" };

/** Dawlish Deli: invoice 1025 (205.00) settled by a cash payment (105.00) and credit memo 1026 (100.00). */
function addCreditAppliedCustomer(fake: FakeQbo, at = "2026-10-01T09:00:00-07:00") {
  fake.put("Customer", {
    Id: "4",
    SyncToken: "0",
    domain: "QBO",
    sparse: false,
    Active: true,
    Balance: 0,
    DisplayName: "Dawlish Deli",
    PrimaryEmailAddr: { Address: "accounts@dawlish.example" },
    CurrencyRef: GBP,
    MetaData: meta(at),
  });
  fake.put("Invoice", {
    Id: "171",
    SyncToken: "2",
    domain: "QBO",
    sparse: false,
    DocNumber: "1025",
    TxnDate: "2026-08-19",
    DueDate: "2026-09-18",
    TotalAmt: 205,
    Balance: 0,
    CurrencyRef: GBP,
    CustomerRef: { value: "4", name: "Dawlish Deli" },
    LinkedTxn: [
      { TxnId: "274", TxnType: "Payment" },
      { TxnId: "272", TxnType: "Payment" },
    ],
    MetaData: meta(at),
  });
  fake.put("CreditMemo", {
    Id: "373",
    SyncToken: "1",
    domain: "QBO",
    sparse: false,
    DocNumber: "1026",
    TxnDate: "2026-09-20",
    TotalAmt: 100,
    RemainingCredit: 0,
    Balance: 0,
    CurrencyRef: GBP,
    CustomerRef: { value: "4", name: "Dawlish Deli" },
    MetaData: meta(at),
  });
  fake.put("Payment", {
    Id: "272",
    SyncToken: "0",
    domain: "QBO",
    sparse: false,
    TxnDate: "2026-09-10",
    TotalAmt: 105,
    UnappliedAmt: 0,
    CurrencyRef: GBP,
    CustomerRef: { value: "4", name: "Dawlish Deli" },
    Line: [{ Amount: 105, LinkedTxn: [{ TxnId: "171", TxnType: "Invoice" }] }],
    MetaData: meta(at),
  });
  fake.put("Payment", {
    Id: "274",
    SyncToken: "1",
    domain: "QBO",
    sparse: false,
    TxnDate: "2026-09-22",
    TotalAmt: 0,
    UnappliedAmt: 0,
    ProcessPayment: false,
    PrivateNote: "Created by QB Online to link credits to charges.",
    CurrencyRef: GBP,
    CustomerRef: { value: "4", name: "Dawlish Deli" },
    Line: [
      { Amount: 100, LinkedTxn: [{ TxnId: "171", TxnType: "Invoice" }] },
      { Amount: 100, LinkedTxn: [{ TxnId: "373", TxnType: "CreditMemo" }] },
    ],
    MetaData: meta(at),
  });
}

async function setup() {
  const fake = new FakeQbo();
  addCreditAppliedCustomer(fake);
  server.use(...fake.handlers());
  const q = await qboDeps();
  const { org, connection } = await connectedOrg(q.deps, fake);
  return { ...q, fake, org, connection };
}

const invoiceRow = async (deps: Awaited<ReturnType<typeof setup>>["deps"], ext: string) =>
  (await deps.store.db.select().from(invoices).where(eq(invoices.externalId, ext)))[0]!;

describe("QuickBooks: settle dates and credit applied through a Payment", () => {
  it("a paid invoice's paid-on date is the date of the payment or credit that cleared it", async () => {
    const { deps, service, connection } = await setup();
    expect((await service.sync(connection)).status).toBe("ok");
    // Settled by one payment (recorded fixture ledger): its date.
    expect(await invoiceRow(deps, "103")).toMatchObject({ status: "paid", paidOn: "2026-09-05" });
    // Settled by cash on 2026-09-10 and credit applied on 2026-09-22: the later one cleared it.
    expect(await invoiceRow(deps, "171")).toMatchObject({ status: "paid", paidOn: "2026-09-22" });
    // Open invoices have none.
    expect((await invoiceRow(deps, "102")).paidOn).toBeNull();
  });

  it("turns a Payment's CreditMemo lines into credit-note allocations to the invoices it pays", async () => {
    const { deps, service, connection, org, clock } = await setup();
    expect((await service.sync(connection)).status).toBe("ok");
    const inv = await invoiceRow(deps, "171");
    const allocs = await deps.store.db
      .select()
      .from(creditNoteAllocations)
      .where(eq(creditNoteAllocations.invoiceId, inv.id));
    expect(allocs).toHaveLength(1);
    expect(allocs[0]).toMatchObject({ amountMinor: 10_000, date: "2026-09-22" });
    // The zero-cash payment pays nothing in cash; the recorded ledger's payment 202 applies 50.00 of CM-1.
    const [cm1] = await deps.store.db
      .select()
      .from(creditNoteAllocations)
      .where(eq(creditNoteAllocations.invoiceId, (await invoiceRow(deps, "103")).id));
    expect(cm1).toMatchObject({ amountMinor: 5000, date: "2026-09-05" });

    // The monitor: invoice 1025 owes nothing, Dawlish Deli has no phantom unused credit.
    const ledger = restrictToAsOf(await loadMonitorInput(deps.store.db, org), "2026-11-20");
    const [dawlish] = await deps.store.db.select().from(contacts).where(eq(contacts.externalId, "4"));
    expect(ledger.creditsByContact.get(dawlish!.id)).toBeUndefined();
    const settled = ledger.invoicesByContact.get(dawlish!.id)!.find((i) => i.id === inv.id)!;
    expect(settled).toMatchObject({
      paidMinor: 10_500,
      creditedMinor: 10_000,
      dueMinor: 0,
      settledOn: "2026-09-22",
    });
    // Re-syncing the same ledger changes nothing.
    clock.advance(3_600_000);
    const again = await service.sync(connection);
    expect(again.entities.payments.created + again.entities.payments.updated).toBe(0);
    expect(
      await deps.store.db.select().from(creditNoteAllocations).where(eq(creditNoteAllocations.orgId, org.id)),
    ).toHaveLength(2);
  });
});

describe("QuickBooks: quarantine is all-or-nothing and retried", () => {
  it("keeps no half-written payment, retries it on the next sync and releases it once it maps", async () => {
    const { deps, service, connection, fake, clock, org } = await setup();
    fake.put("Payment", {
      ...fake.data.Payment.get("201")!,
      Id: "205",
      TotalAmt: 50,
      Line: [{ Amount: 50, LinkedTxn: [{ TxnId: "199", TxnType: "Invoice" }] }],
    });
    const first = await service.sync(connection);
    expect(first.status).toBe("ok");
    expect(await deps.store.db.select().from(payments).where(eq(payments.externalId, "205"))).toEqual([]);
    const q = await deps.store.db
      .select()
      .from(quarantinedRecords)
      .where(and(eq(quarantinedRecords.orgId, org.id), eq(quarantinedRecords.externalId, "205")));
    expect(q.map((r) => r.reason)).toEqual(["payment 205 refers to unknown invoice 199"]);

    // The invoice appears (it had been created in a company file restored later); the payment itself is
    // unchanged, so change data capture will not send it again: the retry does.
    clock.advance(3_600_000);
    fake.put("Invoice", {
      ...fake.data.Invoice.get("101")!,
      Id: "199",
      DocNumber: "1099",
      TotalAmt: 50,
      Balance: 0,
      MetaData: meta(new Date(clock.now()).toISOString()),
    });
    const second = await service.sync(connection);
    expect(second.status).toBe("ok");
    const [pay] = await deps.store.db.select().from(payments).where(eq(payments.externalId, "205"));
    expect(pay).toMatchObject({ amountMinor: 5000 });
    expect(
      await deps.store.db.select().from(quarantinedRecords).where(eq(quarantinedRecords.orgId, org.id)),
    ).toEqual([]);
    expect(await invoiceRow(deps, "199")).toMatchObject({ status: "paid", paidOn: "2026-10-20" });
  });
});

describe("QuickBooks: 401 on a data call", () => {
  it("refreshes once and retries (recorded 401 body), keeping the connection", async () => {
    const { deps, service, connection, fake } = await setup();
    fake.faults.push(() =>
      HttpResponse.json(fixture("error-401-token-expired.sandbox-2020.json"), { status: 401 }),
    );
    const report = await service.sync(connection);
    expect(report.status).toBe("ok");
    expect(fake.tokenCalls.filter((t) => t.grant === "refresh_token")).toHaveLength(1);
    expect((await getConnection(deps.store.db, connection.id))!.status).toBe("active");
  });

  it("a refused refresh token is what marks the connection 'needs reconnect'", async () => {
    const { deps, service, connection, fake } = await setup();
    fake.validRefresh.clear();
    fake.faults.push(() =>
      HttpResponse.json(fixture("error-401-token-expired.sandbox-2020.json"), { status: 401 }),
    );
    const report = await service.sync(connection);
    expect(report.status).toBe("needs_reconnect");
    expect((await getConnection(deps.store.db, connection.id))!.status).toBe("needs_reconnect");
  });
});

describe("QuickBooks webhooks: failed re-pulls", () => {
  const signed = (body: string) => signHmacSha256Base64(QBO_ENV.QBO_WEBHOOK_VERIFIER, body);
  const event = (realm: string, id = "evt-9") =>
    JSON.stringify([
      {
        ...fixture<Record<string, unknown>[]>("webhook-cloudevents-customer-created.json")[0],
        id,
        type: "qbo.invoice.updated.v1",
        intuitentityid: "101",
        intuitaccountid: realm,
      },
    ]);

  it("retries a failing re-pull with backoff, and a redelivery of an event never re-pulled is not a duplicate", async () => {
    const { deps, service, connection, fake, clock, sleeps } = await setup();
    await service.sync(connection);
    clock.advance(3_600_000);
    const app = createApp(deps);
    fake.put("Invoice", {
      ...fake.data.Invoice.get("101")!,
      Balance: 100,
      MetaData: meta(new Date(clock.now()).toISOString()),
    });
    const body = event(fake.realmId);
    const post = async () =>
      app.request("/webhooks/quickbooks", {
        method: "POST",
        body,
        headers: { "content-type": "application/cloudevents+json", "intuit-signature": await signed(body) },
      });
    const bad = () =>
      HttpResponse.json(fixture("error-400-unsupported-property.sandbox-2020.json"), { status: 400 });
    // Every attempt of the first delivery fails (5 = the first try and 4 retries).
    for (let n = 0; n < 5; n++) fake.faults.push(bad);
    sleeps.length = 0;
    expect((await post()).status).toBe(200);
    await quickbooksIdle(deps);
    expect(sleeps).toEqual([1000, 5000, 30_000, 120_000]);
    let [ev] = await deps.store.db.select().from(webhookEvents);
    expect(ev).toMatchObject({ processedAt: null, attempts: 5 });
    expect((await invoiceRow(deps, "101")).amountDueMinor).toBe(36_207);

    // Intuit redelivers the same event: it is done now, not dropped as a duplicate.
    expect((await post()).status).toBe(200);
    await quickbooksIdle(deps);
    [ev] = await deps.store.db.select().from(webhookEvents);
    expect(ev!.processedAt).not.toBeNull();
    expect((await invoiceRow(deps, "101")).amountDueMinor).toBe(10_000);

    // A second redelivery of a processed event is a duplicate: nothing is pulled.
    const calls = fake.calls.length;
    expect((await post()).status).toBe(200);
    await quickbooksIdle(deps);
    expect(fake.calls).toHaveLength(calls);
  });

  it("one failed attempt is retried after a backoff and succeeds within the same delivery", async () => {
    const { deps, service, connection, fake, clock, sleeps } = await setup();
    await service.sync(connection);
    clock.advance(3_600_000);
    const app = createApp(deps);
    const body = event(fake.realmId, "evt-10");
    fake.faults.push(() => HttpResponse.json({}, { status: 400 }));
    sleeps.length = 0;
    await app.request("/webhooks/quickbooks", {
      method: "POST",
      body,
      headers: { "content-type": "application/cloudevents+json", "intuit-signature": await signed(body) },
    });
    await quickbooksIdle(deps);
    expect(sleeps).toEqual([1000]);
    const [ev] = await deps.store.db.select().from(webhookEvents);
    expect(ev).toMatchObject({ attempts: 1 });
    expect(ev!.processedAt).not.toBeNull();
  });
});

describe("QuickBooks reconciliation against Customer.Balance", () => {
  it("finds no mismatch after syncing the recorded-shape company, and names the customer whose invoice changed behind the store's back", async () => {
    const { deps, connection, org } = await setup();
    expect((await syncConnection(deps, connection)).status).toBe("ok");
    const clean = await reconcileOrg(deps, org);
    expect(clean).toEqual({ customers_checked: 4, mismatched: [] });

    // Someone edits invoice 1001 in the store directly: it now owes 10.00 less than QuickBooks says.
    await deps.store.db
      .update(invoices)
      .set({ amountDueMinor: 35_207 })
      .where(and(eq(invoices.orgId, org.id), eq(invoices.externalId, "101")));
    expect(await reconcileOrg(deps, org)).toEqual({
      customers_checked: 4,
      mismatched: [{ customer_id: "1", ours: 75_207, theirs: 76_207, currency: "GBP" }],
    });
  });

  it("re-reads a mismatched customer's open invoices once after a sync before reporting", async () => {
    const { deps, connection, org, fake } = await setup();
    expect((await syncConnection(deps, connection)).status).toBe("ok");
    await deps.store.db
      .update(invoices)
      .set({ amountDueMinor: 1 })
      .where(and(eq(invoices.orgId, org.id), eq(invoices.externalId, "101")));
    fake.calls = [];
    const { lastReconciliation } = await import("../../../src/store/reconcile");
    expect((await syncConnection(deps, connection)).status).toBe("ok");
    // The re-read put the invoice right: nothing to report.
    expect(fake.calls.some((c) => c.query?.includes("FROM Invoice WHERE Id IN ('101'"))).toBe(true);
    expect((await invoiceRow(deps, "101")).amountDueMinor).toBe(36_207);
    expect((await lastReconciliation(deps.store.db, org.id))!.mismatched).toEqual([]);
  });
});
