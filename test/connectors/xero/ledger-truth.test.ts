/**
 * Issue 14, Xero: records that change during a backfill, 401s, duplicate tenants, a deleted Credit Hold group,
 * contact roles and the provider's remaining credit, on recorded-shape data (test/fixtures/xero and the fake).
 */
import { readFileSync } from "node:fs";
import { eq } from "drizzle-orm";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ChangeEvent } from "../../../connectors/connector";
import { mapContact, mapCredit } from "../../../connectors/xero/map";
import { organisationTenants } from "../../../connectors/xero/oauth";
import { restrictToAsOf } from "../../../src/monitor/as-of";
import { runScoring } from "../../../src/scoring/run-scoring";
import { getConnection } from "../../../src/store/connections";
import { loadMonitorInput } from "../../../src/store/monitor-input";
import { contacts, invoices, webhookEvents } from "../../../src/store/schema";
import { contextForOrg } from "../../../src/sync/context";
import { syncConnection } from "../../../src/sync/sync-connections";
import { recordChangeEvents, repullChanged } from "../../../src/sync/webhook-events";
import { contactRecord, creditNoteRecord, guid, msDate } from "./fake-xero";
import { seedLedger, xeroHarness } from "./harness";

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../fixtures/xero/${name}`, import.meta.url), "utf8"));

async function setup(opts: Parameters<typeof xeroHarness>[0] = {}) {
  const h = await xeroHarness(opts);
  server.use(...h.fake.handlers);
  const ids = seedLedger(h.fake.data());
  const [first] = await h.connect();
  return { ...h, ids, org: first!.org, connection: first!.connection };
}

const storedContacts = async (h: Awaited<ReturnType<typeof setup>>) =>
  (await h.deps.store.db.select().from(contacts).where(eq(contacts.orgId, h.org.id))).map(
    (c) => c.externalId,
  );

describe("Xero backfill while records change", () => {
  it("reads every contact when one is edited mid-backfill (5 contacts, page size 2), and the next run too", async () => {
    const h = await setup();
    const data = h.fake.data();
    let edited = false;
    const report = await syncConnection(h.deps, h.connection, {
      entities: ["contacts"],
      onPage: ({ entity, pages }) => {
        if (entity !== "contacts" || pages !== 1 || edited) return;
        // Someone edits the first contact in Xero right after page 1 was read: it moves to the end of the
        // UpdatedDateUTC order, and with page numbers the third contact would slide back onto page 1 unread.
        edited = true;
        data.Contacts[0]!.Name = "Boom FM (renamed)";
        data.Contacts[0]!.UpdatedDateUTC = msDate(h.clock.now());
      },
    });
    expect(report.status).toBe("ok");
    expect(edited).toBe(true);
    expect((await storedContacts(h)).sort()).toEqual(data.Contacts.map((c) => c.ContactID).sort());
    const renamed = await h.deps.store.db
      .select()
      .from(contacts)
      .where(eq(contacts.externalId, h.ids.c(1)));
    expect(renamed[0]!.name).toBe("Boom FM (renamed)");
  });

  it("resumes an interrupted backfill from the stored walk position without losing the contact edited meanwhile", async () => {
    const h = await setup();
    const data = h.fake.data();
    // Page 1 is stored, then the process dies.
    const dying = {
      ...h.connector,
      async *pull(...args: Parameters<typeof h.connector.pull>) {
        let n = 0;
        for await (const page of h.connector.pull(...args)) {
          yield page;
          if (++n === 1) throw new Error("process killed");
        }
      },
    };
    await expect(syncConnection(h.deps, h.connection, { entities: ["contacts"] }, dying)).rejects.toThrow(
      "process killed",
    );
    expect(await storedContacts(h)).toHaveLength(2);
    data.Contacts[0]!.UpdatedDateUTC = msDate(h.clock.now());
    data.Contacts[0]!.Name = "Boom FM (edited while down)";
    const report = await syncConnection(h.deps, h.connection, { entities: ["contacts"] });
    expect(report.status).toBe("ok");
    expect(await storedContacts(h)).toHaveLength(5);
    const row = await h.deps.store.db
      .select()
      .from(contacts)
      .where(eq(contacts.externalId, h.ids.c(1)));
    expect(row[0]!.name).toBe("Boom FM (edited while down)");
  });
});

describe("Xero 401s", () => {
  it("refreshes the token once and retries a data call answered 401, keeping the connection active", async () => {
    const h = await setup();
    h.fake.state.faults.push({
      status: 401,
      path: "/Invoices",
      body: { Type: null, Title: "Unauthorized", Status: 401, Detail: "TokenExpired: token expired" },
    });
    const report = await syncConnection(h.deps, h.connection);
    expect(report.status).toBe("ok");
    expect(h.fake.state.tokenCalls.filter((t) => t.grant === "refresh_token")).toHaveLength(1);
    expect((await getConnection(h.deps.store.db, h.connection.id))!.status).toBe("active");
    expect(report.entities.invoices.created).toBe(7);
  });

  it("a 401 that persists after a successful refresh fails the run but does not ask for a reconnect", async () => {
    const h = await setup();
    h.fake.state.faults.push({ status: 401, path: "/Contacts" }, { status: 401, path: "/Contacts" });
    const report = await syncConnection(h.deps, h.connection);
    expect(report.status).toBe("failed");
    expect((await getConnection(h.deps.store.db, h.connection.id))!.status).toBe("active");
    // The next run works.
    expect((await syncConnection(h.deps, h.connection)).status).toBe("ok");
  });

  it("only a refused refresh token means 'needs reconnect'", async () => {
    const h = await setup();
    h.fake.state.faults.push({ status: 401, path: "/Contacts" });
    h.fake.state.liveRefreshTokens.clear(); // the user removed the app: the refresh is refused (invalid_grant)
    const report = await syncConnection(h.deps, h.connection);
    expect(report.status).toBe("needs_reconnect");
    expect((await getConnection(h.deps.store.db, h.connection.id))!.status).toBe("needs_reconnect");
  });
});

describe("Xero tenants", () => {
  it("lists a tenant that /connections repeats once", () => {
    const rows = fixture("connections.spec.json") as Record<string, unknown>[];
    const doubled = [...rows, { ...rows[0], id: "another-auth-event" }];
    const tenants = organisationTenants(doubled);
    expect(tenants).toHaveLength(1);
    expect(tenants[0]!.tenantId).toBe(rows[0]!.tenantId);
  });

  it("connecting the same tenant twice in one consent keeps its tokens and it syncs", async () => {
    const h = await xeroHarness();
    server.use(...h.fake.handlers);
    seedLedger(h.fake.data());
    const connected = await h.connect([0, 0]);
    expect(new Set(connected.map((c) => c.connection.id)).size).toBe(1);
    const conn = (await getConnection(h.deps.store.db, connected[0]!.connection.id))!;
    expect(conn.status).toBe("active");
    expect(conn.sealedTokens).not.toBeNull();
    expect(conn.tokenConnectionId).toBeNull();
    expect((await syncConnection(h.deps, conn)).status).toBe("ok");
  });
});

describe("Xero credit hold group", () => {
  it("re-creates the Credit Hold group when the remembered one was deleted in Xero (404)", async () => {
    const h = await setup();
    const found = (await contextForOrg(h.deps, h.org.id))!;
    await found.connector.placeHold(found.ctx, { contactExternalId: h.ids.c(2), note: "On hold" });
    const data = h.fake.data();
    expect(data.ContactGroups).toHaveLength(1);
    data.ContactGroups.length = 0; // deleted by someone in Xero
    const placed = await found.connector.placeHold(found.ctx, {
      contactExternalId: h.ids.c(3),
      note: "On hold",
    });
    expect(placed.written).toBe(true);
    expect(data.ContactGroups).toHaveLength(1);
    expect(data.ContactGroups[0]).toMatchObject({
      Name: "Credit Hold",
      Contacts: [{ ContactID: h.ids.c(3) }],
    });
  });
});

describe("Xero mapping: roles, balances and remaining credit", () => {
  it("keeps the provider's remaining credit: 34.50 with 2.00 refunded leaves 32.50", () => {
    const cn = fixture("creditnotes-list.spec.json").CreditNotes.find(
      (c: { Type: string }) => c.Type === "ACCRECCREDIT",
    );
    const m = mapCredit("CreditNotes", cn);
    if (!("ok" in m)) throw new Error(m.error);
    expect(m.ok.totalMinor).toBe(3450);
    expect(m.ok.remainingMinor).toBe(3250);
  });

  it("maps IsCustomer / IsSupplier and the receivable Balances of the recorded contact", () => {
    const list = fixture("contacts-list.spec.json").Contacts as Record<string, unknown>[];
    const both = mapContact(list[0]!);
    if (!("ok" in both)) throw new Error(both.error);
    expect(both.ok.isCustomer).toBe(list[0]!.IsCustomer);
    expect(both.ok.isSupplier).toBe(list[0]!.IsSupplier);
    const supplier = mapContact(
      contactRecord({
        id: guid(9, 1),
        name: "Paper Supplies Ltd",
        updated: Date.parse("2026-10-01T00:00:00Z"),
      }),
    );
    if (!("ok" in supplier)) throw new Error(supplier.error);
    expect(supplier.ok.providerBalance).toBeUndefined();
    const single = mapContact(fixture("contact-single.spec.json").Contacts[0]);
    if (!("ok" in single)) throw new Error(single.error);
    const ar = fixture("contact-single.spec.json").Contacts[0].Balances.AccountsReceivable;
    expect(single.ok.providerBalance).toEqual({
      outstandingMinor: Math.round(ar.Outstanding * 100),
      overdueMinor: Math.round(ar.Overdue * 100),
      currency: "USD",
    });
  });
});

describe("Xero sync: roles and remaining credit reach the monitor", () => {
  it("never scores a supplier-only contact until it has a sales invoice, and counts refunded credit as gone", async () => {
    const h = await setup();
    const data = h.fake.data();
    const T = Date.parse("2026-10-20T00:00:00Z");
    const supplier = contactRecord({ id: guid(9, 1), name: "Paper Supplies Ltd", updated: T });
    supplier.IsCustomer = false;
    supplier.IsSupplier = true;
    data.Contacts.push(supplier);
    // CN-0005 as recorded: 34.50, of which 2.00 was refunded in cash, so Xero's RemainingCredit is 32.50.
    const cn = creditNoteRecord({
      id: guid(4, 5),
      contactId: h.ids.c(4),
      number: "CN-0005",
      date: "2026-10-05",
      total: 34.5,
      allocations: [],
      updated: T + 1,
    });
    cn.RemainingCredit = 32.5;
    data.CreditNotes.push(cn);
    expect((await syncConnection(h.deps, h.connection)).status).toBe("ok");

    const scored = await runScoring(h.deps.store, h.org, { now: h.clock.now(), save: false });
    const scoredIds = new Set(scored.results.map((r) => r.contact_id));
    const [supplierRow] = await h.deps.store.db
      .select()
      .from(contacts)
      .where(eq(contacts.externalId, guid(9, 1)));
    expect(supplierRow!.isSupplier).toBe(true);
    expect(scoredIds.has(supplierRow!.id)).toBe(false);
    const [ridgeway] = await h.deps.store.db
      .select()
      .from(contacts)
      .where(eq(contacts.externalId, h.ids.c(4)));
    expect(scoredIds.has(ridgeway!.id)).toBe(true);

    const ledger = restrictToAsOf(await loadMonitorInput(h.deps.store.db, h.org), "2026-11-20");
    // Ridgeway: the overpayment (20) and prepayment (300) are unused, plus 32.50 of CN-0005 (not 34.50).
    expect(ledger.creditsByContact.get(ridgeway!.id)).toEqual([
      { contactId: ridgeway!.id, currency: "NZD", unappliedMinor: 2000 + 30_000 + 3250 },
    ]);

    // A sales invoice makes the supplier a customer (Xero sets IsCustomer too; even before it does, it is scored).
    data.Invoices.push({
      ...data.Invoices[5]!,
      InvoiceID: guid(2, 50),
      InvoiceNumber: "INV-0050",
      Contact: { ContactID: guid(9, 1) },
      UpdatedDateUTC: msDate(h.clock.now()),
    });
    h.clock.advance(60_000);
    expect((await syncConnection(h.deps, h.connection)).status).toBe("ok");
    const again = await runScoring(h.deps.store, h.org, { now: h.clock.now(), save: false });
    expect(again.results.some((r) => r.contact_id === supplierRow!.id)).toBe(true);
  });
});

describe("Xero webhook re-pulls", () => {
  it("retries a failing re-pull with backoff; a redelivery of the event it never finished is done, not dropped", async () => {
    const h = await setup();
    await syncConnection(h.deps, h.connection);
    const inv3 = h.fake.data().Invoices.find((i) => i.InvoiceID === h.ids.inv(3))!;
    Object.assign(inv3, { AmountPaid: 500, AmountDue: 2000, UpdatedDateUTC: msDate(h.clock.now()) });
    const event: ChangeEvent = {
      provider: "xero",
      eventId: "evt-inv3",
      tenantId: h.fake.tenants[0]!.id,
      entity: "invoices",
      externalId: h.ids.inv(3),
      payload: fixture("webhook-contact-update.spec.json"),
    };
    const sleeps: number[] = [];
    const sleep = async (ms: number) => {
      sleeps.push(ms);
    };
    // Xero refuses every attempt of the first delivery (400s are not retried by the API client itself).
    for (let n = 0; n < 3; n++) h.fake.state.faults.push({ status: 400, path: "/Invoices" });
    const fresh = await recordChangeEvents(h.deps, [event]);
    expect(fresh).toHaveLength(1);
    await repullChanged(h.deps, fresh, { sleep, delaysMs: [1000, 5000] });
    expect(sleeps).toEqual([1000, 5000]);
    let [ev] = await h.deps.store.db.select().from(webhookEvents);
    expect(ev).toMatchObject({ processedAt: null, attempts: 3 });

    const again = await recordChangeEvents(h.deps, [event]);
    expect(again).toHaveLength(1); // not a duplicate: its re-pull never succeeded
    await repullChanged(h.deps, again, { sleep, delaysMs: [1000, 5000] });
    [ev] = await h.deps.store.db.select().from(webhookEvents);
    expect(ev!.processedAt).not.toBeNull();
    const [row] = await h.deps.store.db
      .select()
      .from(invoices)
      .where(eq(invoices.externalId, h.ids.inv(3)));
    expect(row!.amountDueMinor).toBe(200_000);
    expect(await recordChangeEvents(h.deps, [event])).toHaveLength(0); // done: now a duplicate
  });
});
