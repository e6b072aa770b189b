import { and, eq } from "drizzle-orm";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Connector } from "../../../connectors/connector";
import { getConnection, getCursor } from "../../../src/store/connections";
import type { Store } from "../../../src/store/db";
import {
  contacts,
  creditNoteAllocations,
  creditNotes,
  invoices,
  paymentAllocations,
  payments,
  quarantinedRecords,
} from "../../../src/store/schema";
import { syncConnection } from "../../../src/sync/sync-connections";
import { testDeps } from "../../support/deps";
import { invoiceRecord, msDate } from "./fake-xero";
import { seedLedger, XERO_ENV, xeroHarness } from "./harness";

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

async function setup(opts: Parameters<typeof xeroHarness>[0] = {}) {
  const h = await xeroHarness(opts);
  server.use(...h.fake.handlers);
  const ids = seedLedger(h.fake.data());
  const [first] = await h.connect();
  return { ...h, ids, org: first!.org, connection: first!.connection };
}

/** The ledger as values (no generated ids or timestamps), to compare two stores. */
async function snapshot(store: Store, orgId: string) {
  const db = store.db;
  const cs = await db.select().from(contacts).where(eq(contacts.orgId, orgId));
  const is = await db.select().from(invoices).where(eq(invoices.orgId, orgId));
  const ps = await db.select().from(payments).where(eq(payments.orgId, orgId));
  const ns = await db.select().from(creditNotes).where(eq(creditNotes.orgId, orgId));
  const pa = await db.select().from(paymentAllocations).where(eq(paymentAllocations.orgId, orgId));
  const na = await db.select().from(creditNoteAllocations).where(eq(creditNoteAllocations.orgId, orgId));
  const byId = new Map<string, string>([...is, ...ps, ...ns, ...cs].map((r) => [r.id, r.externalId]));
  // biome-ignore lint/suspicious/noExplicitAny: rows of several tables, compared as plain values.
  type Row = Record<string, any>;
  const strip = (r: Row): Row => {
    const { id: _i, createdAt: _c, updatedAt: _u, orgId: _o, contactId, ...rest } = r;
    return { ...rest, contact: contactId ? byId.get(String(contactId)) : null };
  };
  const sort = (rows: Row[]) => rows.sort((a, b) => String(a.externalId).localeCompare(String(b.externalId)));
  return {
    contacts: sort(cs.map(strip)),
    invoices: sort(is.map(strip)),
    payments: sort(ps.map(strip)),
    creditNotes: sort(ns.map(strip)),
    paymentAllocations: pa
      .map((a) => `${byId.get(a.paymentId)}>${byId.get(a.invoiceId)}:${a.amountMinor}@${a.date}`)
      .sort(),
    creditAllocations: na
      .map((a) => `${byId.get(a.creditNoteId)}>${byId.get(a.invoiceId)}:${a.amountMinor}@${a.date}`)
      .sort(),
  };
}

describe("Xero sync: happy paths", () => {
  it("backfills every entity across several pages on first connect", async () => {
    const h = await setup();
    const report = await syncConnection(h.deps, h.connection);
    expect(report.status).toBe("ok");
    // pageSize 2, walking by UpdatedDateUTC: each page after the first re-reads the newest record of the one
    // before (the overlap, skipped by id): 5 contacts = 4 pages; 7 receivable invoices = 6 pages (the bill is
    // filtered out by Xero's where).
    expect(h.fake.apiCalls("/Contacts")).toHaveLength(4);
    expect(h.fake.apiCalls("/Invoices")).toHaveLength(6);
    expect(h.fake.apiCalls("/Invoices")[0]!.query).toMatchObject({
      where: 'Type=="ACCREC"',
      summaryOnly: "true",
      pageSize: "2",
    });
    expect(h.fake.apiCalls("/Invoices")[0]!.ifModifiedSince).toBeNull();
    expect(h.fake.apiCalls("/Invoices").every((c) => c.query.page === "1")).toBe(true);
    expect(report.entities.contacts.created).toBe(5);
    expect(report.entities.invoices.created).toBe(7);
    expect(report.entities.payments.created).toBe(3);
    expect(report.entities.credit_notes.created).toBe(3); // a credit note, an overpayment and a prepayment

    const snap = await snapshot(h.deps.store, h.org.id);
    const inv2 = snap.invoices.find((i) => i.number === "INV-0002")!;
    expect(inv2).toMatchObject({
      status: "authorised",
      totalMinor: 10_000,
      amountPaidMinor: 4000,
      amountDueMinor: 6000,
      issueDate: "2026-09-05",
      dueDate: "2026-10-05",
      currency: "NZD",
    });
    expect(snap.invoices.find((i) => i.number === "INV-0001")).toMatchObject({
      status: "paid",
      paidOn: "2026-09-30",
    });
    expect(snap.invoices.find((i) => i.number === "INV-0005")).toMatchObject({ status: "void" });
    expect(snap.contacts.find((c) => c.name === "City Agency")!.emails).toEqual([
      "accounts@city.example",
      "jo@city.example",
    ]);
    expect(snap.paymentAllocations).toHaveLength(2); // the deleted payment pays nothing
    expect(snap.creditAllocations).toEqual([expect.stringContaining(":3000@2026-09-20")]);
    expect(snap.creditNotes.map((n) => n.number).sort()).toEqual([
      "CN-0001",
      "Overpayment bank transfer",
      "Prepayment bank transfer",
    ]);
    expect((await getConnection(h.deps.store.db, h.connection.id))!.lastSyncAt).toBe(h.clock.now());
  });

  it("fetches only changes on the next run, with If-Modified-Since, and re-running changes nothing", async () => {
    const h = await setup();
    await syncConnection(h.deps, h.connection);
    h.clock.advance(15 * 60_000);
    h.fake.resetCounters();
    const data = h.fake.data();
    const changed = data.Invoices.find((i) => i.InvoiceNumber === "INV-0003")!;
    Object.assign(changed, { AmountPaid: 500, AmountDue: 2000, UpdatedDateUTC: msDate(h.clock.now()) });

    const report = await syncConnection(h.deps, h.connection);
    expect(report.status).toBe("ok");
    // (Xero does not bump the contact when its balance changes: reconciliation re-reads City Agency and its open
    // invoices by IDs once after the sync, and that is the only other Invoices call.)
    const calls = h.fake.apiCalls("/Invoices").filter((c) => !c.query.IDs);
    expect(calls).toHaveLength(1);
    // The newest receivable invoice change seen in the backfill (INV-0007, T0 + 16 h) less 5 minutes.
    expect(calls[0]!.ifModifiedSince).toBe(new Date(h.ids.T0 + 16 * h.ids.HOUR - 5 * 60_000).toISOString());
    expect(report.entities.invoices).toMatchObject({ created: 0, updated: 1 });
    const [row] = await h.deps.store.db.select().from(invoices).where(eq(invoices.number, "INV-0003"));
    expect(row!.amountDueMinor).toBe(200_000);

    const again = await syncConnection(h.deps, h.connection);
    expect(
      again.entities.invoices.updated + again.entities.contacts.updated + again.entities.payments.updated,
    ).toBe(0);
  });

  it("sweeps open invoices daily for changes Xero does not mark as modified", async () => {
    const h = await setup();
    await syncConnection(h.deps, h.connection);
    const data = h.fake.data();
    // A due date moved on a part-paid invoice: Xero leaves UpdatedDateUTC alone.
    const moved = data.Invoices.find((i) => i.InvoiceNumber === "INV-0002")!;
    moved.DueDate = msDate(Date.parse("2026-11-30T00:00:00Z"));
    // An open invoice paid in a way the incremental feed did not show, and no longer AUTHORISED.
    const gone = data.Invoices.find((i) => i.InvoiceNumber === "INV-0006")!;
    Object.assign(gone, { Status: "PAID", AmountDue: 0, AmountPaid: 1200 });

    h.clock.advance(60 * 60_000);
    const early = await syncConnection(h.deps, h.connection);
    expect(early.sweep).toBeUndefined();

    h.clock.advance(24 * 60 * 60_000);
    h.fake.resetCounters();
    const report = await syncConnection(h.deps, h.connection);
    expect(report.sweep).toBeDefined();
    const sweepCalls = h.fake
      .apiCalls("/Invoices")
      .filter((c) => c.query.Statuses === "AUTHORISED" || c.query.IDs);
    expect(sweepCalls.some((c) => c.query.Statuses === "AUTHORISED" && c.ifModifiedSince === null)).toBe(
      true,
    );
    expect(sweepCalls.some((c) => c.query.IDs?.includes(String(gone.InvoiceID)))).toBe(true);
    const rows = await h.deps.store.db.select().from(invoices);
    expect(rows.find((r) => r.number === "INV-0002")!.dueDate).toBe("2026-11-30");
    expect(rows.find((r) => r.number === "INV-0006")!.status).toBe("paid");
  });
});

describe("Xero sync: errors", () => {
  it("quarantines a bad record with its reason and stores the rest", async () => {
    const h = await setup();
    const data = h.fake.data();
    data.Invoices.push(
      invoiceRecord({
        id: "bad-currency",
        contactId: String(data.Contacts[0]!.ContactID),
        number: "INV-0099",
        date: "2026-10-01",
        due: "2026-10-31",
        total: 10,
        currency: "XXY",
        updated: h.ids.T0 + 40 * h.ids.HOUR,
      }),
    );
    const noDue = invoiceRecord({
      id: "no-due",
      contactId: String(data.Contacts[0]!.ContactID),
      number: "INV-0098",
      date: "2026-10-01",
      due: "2026-10-31",
      total: 10,
      updated: h.ids.T0 + 41 * h.ids.HOUR,
    });
    delete noDue.DueDate;
    data.Invoices.push(noDue);
    const report = await syncConnection(h.deps, h.connection);
    expect(report.status).toBe("ok");
    expect(report.entities.invoices.quarantined).toBe(2);
    expect(report.entities.invoices.created).toBe(7);
    const q = await h.deps.store.db
      .select()
      .from(quarantinedRecords)
      .where(eq(quarantinedRecords.orgId, h.org.id));
    expect(q.map((r) => [r.externalId, r.reason]).sort()).toEqual([
      ["bad-currency", "Xero Invoices: unknown currency XXY"],
      ["no-due", "Xero Invoices: missing DueDate"],
    ]);
  });

  it("rides out a 429 storm: completes, honours Retry-After, never exceeds 60 calls a minute or 5 at once", async () => {
    const h = await setup({ connector: { pageSize: 1 } });
    // 100 more customers, one per page: well over a minute's allowance.
    const data = h.fake.data();
    for (let n = 0; n < 100; n++)
      data.Contacts.push({
        ...data.Contacts[0]!,
        ContactID: `extra-${n}`,
        Name: `Extra ${n}`,
        UpdatedDateUTC: msDate(h.ids.T0 + 100 + n),
      });
    for (let n = 0; n < 6; n++)
      h.fake.state.faults.push({
        status: 429,
        path: "/Contacts",
        headers: { "Retry-After": "30", "X-Rate-Limit-Problem": "minute" },
      });
    const started = h.clock.now();
    const report = await syncConnection(h.deps, h.connection);
    expect(report.status).toBe("ok");
    expect(report.entities.contacts.created).toBe(105);
    expect(h.fake.state.violations).toBe(0);
    expect(h.fake.maxPerMinute()).toBeLessThanOrEqual(60);
    expect(h.fake.state.peakInFlight).toBeLessThanOrEqual(5);
    expect(h.sleeps.filter((ms) => ms === 30_000).length).toBeGreaterThanOrEqual(6);
    expect(h.clock.now() - started).toBeGreaterThanOrEqual(6 * 30_000);
  });

  it("retries 500s with backoff, and a run that still fails resumes from its last stored page", async () => {
    const h = await setup();
    for (let n = 0; n < 3; n++) h.fake.state.faults.push({ status: 500, path: "/Invoices" });
    const ok = await syncConnection(h.deps, h.connection);
    expect(ok.status).toBe("ok");
    expect(ok.entities.invoices.created).toBe(7);

    const h2 = await setup();
    h2.fake.state.faults.push(
      { status: 503, path: "/Payments" },
      ...Array.from({ length: 8 }, () => ({ status: 500, path: "/Payments" })),
    );
    const failed = await syncConnection(h2.deps, h2.connection);
    expect(failed.status).toBe("failed");
    expect(failed.error).toMatch(/\(500\)/);
    expect(await getCursor(h2.deps.store.db, h2.org.id, "invoices")).not.toBeNull();
    h2.fake.resetCounters();
    const resumed = await syncConnection(h2.deps, h2.connection);
    expect(resumed.status).toBe("ok");
    expect(resumed.entities.payments.created).toBe(3);
  });

  it("marks a connection whose refresh token was revoked as needing reconnection, and other orgs sync on", async () => {
    const h = await setup({
      fake: {
        tenants: [
          {
            id: "tenant-a",
            connectionId: "conn-a",
            name: "Alpha Ltd",
            organisation: {
              Name: "Alpha Ltd",
              BaseCurrency: "NZD",
              Timezone: "NEWZEALANDSTANDARDTIME",
              CountryCode: "NZ",
            },
          },
          {
            id: "tenant-b",
            connectionId: "conn-b",
            name: "Beta Ltd",
            organisation: {
              Name: "Beta Ltd",
              BaseCurrency: "GBP",
              Timezone: "GMTSTANDARDTIME",
              CountryCode: "GB",
            },
          },
        ],
      },
    });
    const [beta] = await h.connect([1]); // its own consent and tokens
    seedLedger(h.fake.data("tenant-b"));
    // Alpha's tokens have expired and the user revoked the app in Xero for that consent.
    const alpha = h.connection;
    h.clock.advance(31 * 60_000);
    const alphaTokens = h.fake.state.liveRefreshTokens;
    const betaRefresh = [...alphaTokens].pop()!;
    for (const t of [...alphaTokens]) if (t !== betaRefresh) alphaTokens.delete(t);

    const a = await syncConnection(h.deps, alpha);
    expect(a.status).toBe("needs_reconnect");
    expect((await getConnection(h.deps.store.db, alpha.id))!.status).toBe("needs_reconnect");
    const b = await syncConnection(h.deps, beta!.connection);
    expect(b.status).toBe("ok");
    expect(b.entities.invoices.created).toBe(7);
    expect((await getConnection(h.deps.store.db, beta!.connection.id))!.status).toBe("active");
  });

  it("pauses a backfill that would exceed the daily budget and resumes it the next day", async () => {
    const h = await setup({ connector: { pageSize: 1, limits: { perDay: 35 }, reserveFraction: 0 } });
    const first = await syncConnection(h.deps, h.connection);
    expect(first.status).toBe("paused");
    expect(first.resumeAfterMs).toBeGreaterThan(0);
    const conn = (await getConnection(h.deps.store.db, h.connection.id))!;
    expect(conn.status).toBe("active");
    expect(conn.syncPausedUntil).toBe(Date.parse("2026-11-21T00:00:00Z"));
    // 10 calls are kept in reserve for interactive work: connecting (1 Organisation call) and the sync used 24.
    expect(h.fake.state.calls.length).toBe(25);

    h.fake.resetCounters();
    const skipped = await syncConnection(h.deps, h.connection);
    expect(skipped.status).toBe("paused");
    expect(h.fake.state.calls).toHaveLength(0);

    h.clock.set("2026-11-21T00:05:00Z");
    const next = await syncConnection(h.deps, h.connection, {});
    expect(["ok", "paused"]).toContain(next.status);
    // Contacts finished yesterday: today they are read incrementally; invoices resume at the page they stopped.
    expect(h.fake.apiCalls("/Contacts")[0]!.ifModifiedSince).not.toBeNull();
    // Yesterday's invoice pages were stored before the budget ran out: today's walk resumes from the newest
    // invoice stored (If-Modified-Since), not from the start.
    expect(h.fake.apiCalls("/Invoices")[0]!.ifModifiedSince).not.toBeNull();
  });
});

describe("Xero sync: crash safety", () => {
  it("ends identical to an uninterrupted run when the process dies mid-sync and then resumes", async () => {
    const whole = await setup();
    await syncConnection(whole.deps, whole.connection);

    const crashy = await setup({ deps: await testDeps({ env: XERO_ENV }) });
    let pages = 0;
    const dying: Connector = {
      ...crashy.connector,
      async *pull(ctx, entity, cursor, opts) {
        for await (const page of crashy.connector.pull(ctx, entity, cursor, opts)) {
          if (++pages === 6) throw new Error("process killed");
          yield page;
        }
      },
    };
    await expect(syncConnection(crashy.deps, crashy.connection, {}, dying)).rejects.toThrow("process killed");
    const partial = await crashy.deps.store.db
      .select()
      .from(invoices)
      .where(and(eq(invoices.orgId, crashy.org.id)));
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(7);
    const resumed = await syncConnection(crashy.deps, crashy.connection);
    expect(resumed.status).toBe("ok");
    const again = await syncConnection(crashy.deps, crashy.connection);
    expect(again.entities.invoices.updated).toBe(0);

    expect(await snapshot(crashy.deps.store, crashy.org.id)).toEqual(
      await snapshot(whole.deps.store, whole.org.id),
    );
  });
});
