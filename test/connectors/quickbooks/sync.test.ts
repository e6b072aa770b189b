import { and, asc, eq } from "drizzle-orm";
import { HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Deps } from "../../../src/deps";
import { getConnection, getCursor } from "../../../src/store/connections";
import {
  contacts,
  creditNotes,
  invoices,
  paymentAllocations,
  payments,
  quarantinedRecords,
} from "../../../src/store/schema";
import { configureQuickbooks, quickbooksFor } from "../../../src/sync/quickbooks";
import { API, connectedOrg, FakeQbo, fixture, qboDeps } from "./fake-qbo";

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

function setup(fake: FakeQbo) {
  server.use(...fake.handlers());
}

/** The ledger as plain rows keyed by provider ids (store ids and timestamps left out). */
async function snapshot(deps: Deps, orgId: string) {
  const db = deps.store.db;
  const cs = await db
    .select()
    .from(contacts)
    .where(eq(contacts.orgId, orgId))
    .orderBy(asc(contacts.externalId));
  const byId = new Map(cs.map((c) => [c.id, c.externalId]));
  const inv = await db
    .select()
    .from(invoices)
    .where(eq(invoices.orgId, orgId))
    .orderBy(asc(invoices.externalId));
  const invExt = new Map(inv.map((i) => [i.id, i.externalId]));
  const pay = await db
    .select()
    .from(payments)
    .where(eq(payments.orgId, orgId))
    .orderBy(asc(payments.externalId));
  const payExt = new Map(pay.map((p) => [p.id, p.externalId]));
  const alloc = await db.select().from(paymentAllocations).where(eq(paymentAllocations.orgId, orgId));
  const cn = await db
    .select()
    .from(creditNotes)
    .where(eq(creditNotes.orgId, orgId))
    .orderBy(asc(creditNotes.externalId));
  const strip = <T extends object>(r: T): Record<string, any> => {
    const {
      id: _i,
      orgId: _o,
      createdAt: _c,
      updatedAt: _u,
      contactId,
      ...rest
    } = r as Record<string, unknown>;
    return {
      ...rest,
      ...(contactId !== undefined ? { contact: contactId ? byId.get(String(contactId)) : null } : {}),
    };
  };
  return {
    contacts: cs.map(strip),
    invoices: inv.map(strip),
    payments: pay.map(strip),
    allocations: alloc
      .map((a) => ({
        payment: payExt.get(a.paymentId),
        invoice: invExt.get(a.invoiceId),
        amount: a.amountMinor,
        date: a.date,
      }))
      .sort((a, b) => `${a.payment}${a.invoice}`.localeCompare(`${b.payment}${b.invoice}`)),
    creditNotes: cn.map(strip),
  };
}

describe("QuickBooks sync: happy paths", () => {
  it("backfills customers, invoices, payments and credit memos page by page, in exact minor units", async () => {
    const fake = new FakeQbo();
    setup(fake);
    const { deps, service } = await qboDeps({ pageSize: 2 });
    const { org, connection } = await connectedOrg(deps, fake);

    const report = await service.sync(connection);
    expect(report.status).toBe("ok");
    const snap = await snapshot(deps, org.id);

    expect(snap.contacts.map((c) => [c.externalId, c.name, c.deleted])).toEqual([
      ["1", "Anchor Cafe", false],
      ["2", "Brunel Bikes", false],
      ["3", "Clifton Florist (closed)", true],
    ]);
    expect(snap.contacts[0]!.emails).toEqual(["ap@anchorcafe.example", "owner@anchorcafe.example"]);
    const inv = Object.fromEntries(snap.invoices.map((i) => [i.externalId, i]));
    expect(inv["101"]).toMatchObject({
      number: "1001",
      totalMinor: 36207,
      amountDueMinor: 36207,
      status: "authorised",
      currency: "GBP",
      dueDate: "2026-10-01",
    });
    expect(inv["102"]).toMatchObject({
      totalMinor: 100000,
      amountPaidMinor: 60000,
      amountDueMinor: 40000,
      status: "authorised",
    });
    expect(inv["103"]).toMatchObject({ totalMinor: 25050, amountDueMinor: 0, status: "paid" });
    // Payment 202 took 50.00 of credit memo 301 off invoice 103: the allocation is the cash.
    expect(snap.allocations).toEqual([
      { payment: "201", invoice: "102", amount: 60000, date: "2026-10-20" },
      { payment: "202", invoice: "103", amount: 20050, date: "2026-09-05" },
    ]);
    expect(snap.creditNotes[0]).toMatchObject({
      externalId: "301",
      totalMinor: 8000,
      remainingMinor: 3000,
      status: "authorised",
    });

    // Pages of 2: customers 2+1, invoices 2+1, payments 2+empty, credit memos 1 = 7 queries, nothing else.
    const queries = fake.apiCalls("/query").map((c) => c.query);
    expect(queries).toHaveLength(7);
    expect(fake.calls).toHaveLength(7);
    expect(queries[0]).toBe(
      "SELECT * FROM Customer WHERE Active IN (true, false) ORDERBY Id STARTPOSITION 1 MAXRESULTS 2",
    );
    expect(queries[1]).toContain("STARTPOSITION 3");
    expect(JSON.parse((await getCursor(deps.store.db, org.id, "invoices"))!)).toMatchObject({ phase: "cdc" });
  });

  it("pages through the recorded customer query responses until the empty {QueryResponse:{}} page", async () => {
    const fake = new FakeQbo(false);
    setup(fake);
    const pages: Record<string, string> = {
      "1": "query-customer-paged-p1.sandbox-2020.json",
      "3": "query-customer-paged-p2.sandbox-2020.json",
      "5": "query-customer-paged-p3.sandbox-2020.json",
      "7": "query-customer-paged-p4-empty.sandbox-2020.json",
    };
    const seen: string[] = [];
    server.use(
      http.get(`${API}/v3/company/:realm/query`, ({ request }) => {
        const q = new URL(request.url).searchParams.get("query") ?? "";
        seen.push(q);
        const pos = /STARTPOSITION (\d+)/.exec(q)?.[1] ?? "";
        return HttpResponse.json(q.includes("FROM Customer") ? fixture(pages[pos]!) : { QueryResponse: {} });
      }),
    );
    const { deps, service } = await qboDeps({ pageSize: 2 });
    const { org, connection } = await connectedOrg(deps, fake);
    const report = await service.sync(connection, { entities: ["contacts"] });
    expect(report.entities.contacts).toMatchObject({ created: 6, pages: 4 });
    expect(seen.map((q) => /STARTPOSITION (\d+)/.exec(q)?.[1])).toEqual(["1", "3", "5", "7"]);
    const rows = await deps.store.db.select().from(contacts).where(eq(contacts.orgId, org.id));
    expect(rows.find((r) => r.externalId === "5")).toMatchObject({
      name: "Dukes Basketball Camp",
      emails: ["Dukes_bball@intuit.com"],
    });
  });

  it("syncs changes with one change-data-capture call for all four entities, marking deletions", async () => {
    const fake = new FakeQbo();
    setup(fake);
    const { deps, clock, service } = await qboDeps();
    const { org, connection } = await connectedOrg(deps, fake);
    await service.sync(connection);
    fake.calls = [];

    clock.advance(86_400_000);
    const at = new Date(clock.now()).toISOString();
    fake.put("Invoice", { ...fake.data.Invoice.get("101")!, Balance: 0, MetaData: { LastUpdatedTime: at } });
    fake.put("Invoice", {
      ...fake.data.Invoice.get("101")!,
      Id: "104",
      DocNumber: "1004",
      MetaData: { LastUpdatedTime: at },
    });
    fake.remove("Payment", "201", at);

    const report = await service.sync(connection);
    expect(report.status).toBe("ok");
    expect(fake.calls).toHaveLength(1);
    expect(fake.calls[0]!.path).toBe("/cdc");
    const snap = await snapshot(deps, org.id);
    expect(snap.invoices.find((i) => i.externalId === "101")).toMatchObject({
      status: "paid",
      amountDueMinor: 0,
    });
    expect(snap.invoices.find((i) => i.externalId === "104")).toMatchObject({ number: "1004" });
    // Deleted in QBO: kept, marked deleted, no longer paying anything.
    expect(snap.payments.find((p) => p.externalId === "201")).toMatchObject({
      deleted: true,
      amountMinor: 60000,
    });
    expect(snap.allocations.map((a) => a.payment)).toEqual(["202"]);
  });

  it("falls back to a LastUpdatedTime query when the last sync is more than 30 days old, then resumes CDC", async () => {
    const fake = new FakeQbo();
    setup(fake);
    const { deps, clock, service } = await qboDeps();
    const { org, connection } = await connectedOrg(deps, fake);
    await service.sync(connection);
    fake.calls = [];

    clock.advance(40 * 86_400_000);
    const at = new Date(clock.now() - 86_400_000).toISOString();
    fake.put("Invoice", { ...fake.data.Invoice.get("102")!, Balance: 0, MetaData: { LastUpdatedTime: at } });
    const report = await service.sync(connection);
    expect(report.status).toBe("ok");
    expect(fake.apiCalls("/cdc")).toHaveLength(0);
    const queries = fake.apiCalls("/query").map((c) => c.query);
    expect(queries).toHaveLength(4);
    expect(queries[1]).toMatch(
      /^SELECT \* FROM Invoice WHERE MetaData\.LastUpdatedTime >= '2026-11-20T09:55:00\+00:00' ORDERBY MetaData\.LastUpdatedTime STARTPOSITION 1 MAXRESULTS 1000$/,
    );
    const snap = await snapshot(deps, org.id);
    expect(snap.invoices.find((i) => i.externalId === "102")).toMatchObject({ status: "paid" });

    fake.calls = [];
    clock.advance(3_600_000);
    await service.sync(connection);
    expect(fake.calls.map((c) => c.path)).toEqual(["/cdc"]);
  });

  it("falls back to a query when a CDC response is full (1,000 objects)", async () => {
    const fake = new FakeQbo();
    setup(fake);
    const { deps, clock, service } = await qboDeps();
    const { connection } = await connectedOrg(deps, fake);
    await service.sync(connection);
    fake.calls = [];
    clock.advance(3_600_000);
    const at = new Date(clock.now() - 60_000).toISOString();
    for (let i = 0; i < 1000; i++)
      fake.put("Customer", {
        ...fake.data.Customer.get("2")!,
        Id: String(1000 + i),
        DisplayName: `Bulk ${i}`,
        MetaData: { LastUpdatedTime: at },
      });
    const report = await service.sync(connection);
    expect(report.entities.contacts.created).toBe(1000);
    // CDC, then catch-up queries: customers (a full page, the same page again from its newest time, then
    // past the 1,000 rows sharing that time), invoices, payments, credit memos.
    expect(fake.calls.map((c) => c.path)).toEqual([
      "/cdc",
      "/query",
      "/query",
      "/query",
      "/query",
      "/query",
      "/query",
    ]);
  });

  it("after a crash mid-sync, resumes from the stored cursor and ends with the same store as an uninterrupted run", async () => {
    const reference = new FakeQbo();
    setup(reference);
    const a = await qboDeps({ pageSize: 1 });
    const ra = await connectedOrg(a.deps, reference);
    await a.service.sync(ra.connection);
    const expected = await snapshot(a.deps, ra.org.id);
    server.resetHandlers();

    const fake = new FakeQbo();
    setup(fake);
    const b = await qboDeps({ pageSize: 1 });
    const rb = await connectedOrg(b.deps, fake);
    let pages = 0;
    await expect(
      b.service.sync(rb.connection, {
        onPage: () => {
          if (++pages === 5) throw new Error("process killed");
        },
      }),
    ).rejects.toThrow("process killed");
    const before = fake.calls.length;

    // A new process on the same store.
    const restarted: Deps = { ...b.deps };
    configureQuickbooks(restarted, { pageSize: 1, sleep: async () => {} });
    const report = await quickbooksFor(restarted)!.sync(
      (await getConnection(b.deps.store.db, rb.connection.id))!,
    );
    expect(report.status).toBe("ok");
    expect(await snapshot(b.deps, rb.org.id)).toEqual(expected);
    // Nothing before the crash point was fetched again: customers go on by CDC, invoices from position 2.
    const resumed = fake.calls.slice(before);
    expect(resumed[0]!.path).toBe("/cdc");
    expect(resumed[1]!.query).toBe("SELECT * FROM Invoice ORDERBY Id STARTPOSITION 2 MAXRESULTS 1");
  });
});

describe("QuickBooks sync: bad records", () => {
  it("quarantines an invoice that cannot be mapped and stores the rest", async () => {
    const fake = new FakeQbo();
    fake.put("Invoice", { ...fake.data.Invoice.get("101")!, Id: "109", TotalAmt: 10.005 });
    fake.put("Invoice", { ...fake.data.Invoice.get("101")!, Id: "110", CustomerRef: { value: "999" } });
    setup(fake);
    const { deps, service } = await qboDeps();
    const { org, connection } = await connectedOrg(deps, fake);
    const report = await service.sync(connection);
    expect(report.status).toBe("ok");
    expect(report.entities.invoices).toMatchObject({ created: 3, quarantined: 2 });
    const q = await deps.store.db
      .select()
      .from(quarantinedRecords)
      .where(and(eq(quarantinedRecords.orgId, org.id), eq(quarantinedRecords.entity, "invoices")))
      .orderBy(asc(quarantinedRecords.externalId));
    expect(q.map((r) => [r.externalId, r.reason])).toEqual([
      ["109", "TotalAmt 10.005 is not an amount in GBP"],
      ["110", "invoice 110 refers to unknown contact 999"],
    ]);
  });
});
