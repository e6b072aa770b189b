/**
 * The ledger version is kept by SQLite triggers: every insert, update and delete of the ledger rows the
 * dashboard's figures read bumps it, through the upsert functions and through plain SQL alike, and only for
 * the organisation written. Contact edits the figures do not show leave it alone.
 */

import { eq, sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CanonicalInvoice } from "../../src/model";
import { upsertContacts } from "../../src/store/contacts";
import {
  computeDashboardSummary,
  readDashboardSummary,
  storeDashboardSummary,
  warmDashboardSummary,
} from "../../src/store/dashboard-summary";
import type { Store } from "../../src/store/db";
import { upsertCreditNotes, upsertInvoices, upsertPayments } from "../../src/store/ledger";
import { ensureOrg, type Organisation } from "../../src/store/orgs";
import {
  contacts,
  creditNoteAllocations,
  dashboardSummaries,
  invoices,
  organisations,
  paymentAllocations,
  payments,
} from "../../src/store/schema";
import { testStore } from "../support/db";

let store: Store;
let org: Organisation;
let other: Organisation;
const T0 = 1_000;
const AS_OF = "2026-11-20";

const newOrg = async (slug: string) =>
  (await ensureOrg(store.db, { slug, name: slug, baseCurrency: "GBP", timezone: "UTC", provider: "csv" }, T0))
    .org;

const version = async (o: Organisation) => {
  const [r] = await store.db.all<{ v: number }>(
    sql`select ledger_version as v from organisations where id = ${o.id}`,
  );
  return r!.v;
};

/** How much the organisation's ledger version moved while `work` ran (and the other's, which must not). */
async function bumps(work: () => Promise<unknown>): Promise<number> {
  const before = await version(org);
  const otherBefore = await version(other);
  await work();
  expect(await version(other)).toBe(otherBefore);
  return (await version(org)) - before;
}

const invoice = (over: Partial<CanonicalInvoice> = {}): CanonicalInvoice => ({
  externalId: "I1",
  contactExternalId: "C1",
  number: "INV-1",
  issueDate: "2026-10-01",
  dueDate: "2026-10-31",
  currency: "GBP",
  totalMinor: 10_000,
  amountPaidMinor: 0,
  amountCreditedMinor: 0,
  amountDueMinor: 10_000,
  status: "authorised",
  ...over,
});

beforeEach(async () => {
  store = testStore();
  org = await newOrg("o");
  other = await newOrg("other");
  await upsertContacts(store, org.id, [{ externalId: "C1", name: "Acme", emails: ["a@acme.example"] }], T0);
  await upsertInvoices(store, org.id, [invoice()], T0);
});
afterEach(async () => {
  await store.close();
});

describe("ledger version triggers", () => {
  it("start at zero and count the writes of the set-up", async () => {
    expect(await version(other)).toBe(0);
    expect(await version(org)).toBe(2); // one contact, one invoice
  });

  it("bump on invoice inserts, updates (void) and deletes, not on an unchanged upsert", async () => {
    expect(await bumps(() => upsertInvoices(store, org.id, [invoice({ externalId: "I2" })], T0))).toBe(1);
    expect(await bumps(() => upsertInvoices(store, org.id, [invoice()], T0 + 1))).toBe(0);
    expect(
      await bumps(() =>
        upsertInvoices(store, org.id, [invoice({ status: "void", amountDueMinor: 0 })], T0 + 1),
      ),
    ).toBe(1);
    expect(await bumps(() => store.db.update(invoices).set({ disputedAt: T0 }))).toBe(2); // a dispute, by hand
    expect(await bumps(() => store.db.delete(invoices).where(eq(invoices.externalId, "I2")))).toBe(1);
  });

  it("bump on payments and their allocations, including a deleted payment", async () => {
    const pay = {
      externalId: "P1",
      contactExternalId: "C1",
      date: "2026-11-01",
      currency: "GBP",
      amountMinor: 4_000,
      allocations: [{ invoiceExternalId: "I1", amountMinor: 4_000, date: "2026-11-01" }],
    };
    expect(await bumps(() => upsertPayments(store, org.id, [pay], T0))).toBe(2); // payment + allocation
    expect(await bumps(() => upsertPayments(store, org.id, [pay], T0))).toBe(0);
    // Deleted: the payment row changes and its allocation goes.
    expect(await bumps(() => upsertPayments(store, org.id, [{ ...pay, deleted: true }], T0 + 1))).toBe(2);
    expect(await store.db.select().from(paymentAllocations)).toEqual([]);
    expect(await bumps(() => store.db.update(payments).set({ amountMinor: 1 }))).toBe(1);
  });

  it("bump on credit notes and their allocations", async () => {
    const cn = {
      externalId: "CN1",
      contactExternalId: "C1",
      issueDate: "2026-11-02",
      currency: "GBP",
      totalMinor: 1_000,
      remainingMinor: 0,
      status: "authorised" as const,
      allocations: [{ invoiceExternalId: "I1", amountMinor: 1_000, date: "2026-11-02" }],
    };
    expect(await bumps(() => upsertCreditNotes(store, org.id, [cn], T0))).toBe(2);
    expect(await bumps(() => store.db.update(creditNoteAllocations).set({ amountMinor: 900 }))).toBe(1);
    expect(await bumps(() => upsertCreditNotes(store, org.id, [{ ...cn, status: "void" }], T0 + 1))).toBe(2);
  });

  it("bump when the organisation's base currency (the DSO's currency) changes", async () => {
    expect(
      await bumps(() =>
        store.db.update(organisations).set({ baseCurrency: "EUR" }).where(eq(organisations.id, org.id)),
      ),
    ).toBe(1);
    expect(
      await bumps(() =>
        store.db.update(organisations).set({ name: "O Ltd" }).where(eq(organisations.id, org.id)),
      ),
    ).toBe(0);
  });

  it("bump both organisations when a row moves from one to the other", async () => {
    const [o0, t0] = [await version(org), await version(other)];
    await store.db.update(contacts).set({ orgId: other.id });
    expect([await version(org), await version(other)]).toEqual([o0 + 1, t0 + 1]);
  });

  it("bump on contact names and hold states but not on chasing settings", async () => {
    const c = () =>
      upsertContacts(store, org.id, [{ externalId: "C1", name: "Acme Ltd", emails: [] }], T0 + 1);
    expect(await bumps(c)).toBeGreaterThanOrEqual(1);
    expect(await bumps(() => store.db.update(contacts).set({ holdState: "on_hold" }))).toBe(1);
    expect(
      await bumps(() =>
        store.db
          .update(contacts)
          .set({ chasingPausedUntil: "2026-12-01", optedOut: true, updatedAt: T0 + 2 }),
      ),
    ).toBe(0);
  });
});

describe("dashboard summary cache", () => {
  it("is read back equal to the live computation, over several parts", async () => {
    for (let k = 2; k <= 7; k++) {
      await upsertContacts(store, org.id, [{ externalId: `C${k}`, name: `Customer ${k}`, emails: [] }], T0);
      await upsertInvoices(
        store,
        org.id,
        [
          invoice({
            externalId: `I${k}`,
            contactExternalId: `C${k}`,
            totalMinor: 1000 * k,
            amountDueMinor: 1000 * k,
          }),
        ],
        T0,
      );
    }
    const live = await computeDashboardSummary(store.db, org, AS_OF);
    expect(live.customers.length).toBe(7);
    await storeDashboardSummary(store, org.id, live, await version(org), T0, 3);
    expect((await store.db.select().from(dashboardSummaries)).length).toBe(4); // figures + 3 customer parts
    expect(await readDashboardSummary(store.db, org.id, AS_OF)).toEqual(live);
    // Stored again in fewer parts: the leftover part goes and the summary still reads back whole.
    await storeDashboardSummary(store, org.id, live, await version(org), T0, 10);
    expect((await store.db.select().from(dashboardSummaries)).length).toBe(2);
    expect(await readDashboardSummary(store.db, org.id, AS_OF)).toEqual(live);
  });

  it("misses after any ledger write, and on another as-of date", async () => {
    expect(await warmDashboardSummary(store, org, AS_OF, T0)).toBe("computed");
    expect(await warmDashboardSummary(store, org, AS_OF, T0)).toBe("cache");
    expect(await readDashboardSummary(store.db, org.id, "2026-11-21")).toBeUndefined();
    await store.db.update(invoices).set({ amountDueMinor: 5_000 });
    expect(await readDashboardSummary(store.db, org.id, AS_OF)).toBeUndefined();
    expect(await warmDashboardSummary(store, org, AS_OF, T0)).toBe("computed");
    expect((await readDashboardSummary(store.db, org.id, AS_OF))?.totals[0]?.outstandingMinor).toBe(5_000);
    // The next day's summary replaces the earlier day's.
    await warmDashboardSummary(store, org, "2026-11-21", T0);
    const rows = await store.db.select({ asOf: dashboardSummaries.asOf }).from(dashboardSummaries);
    expect(new Set(rows.map((r) => r.asOf))).toEqual(new Set(["2026-11-21"]));
  });

  it("computes with the stored base currency, even when handed an older copy of the organisation", async () => {
    await warmDashboardSummary(store, org, AS_OF, T0);
    expect((await readDashboardSummary(store.db, org.id, AS_OF))?.dso.at(-1)?.dso).not.toBeNull();
    await store.db.update(organisations).set({ baseCurrency: "EUR" }).where(eq(organisations.id, org.id));
    expect(await warmDashboardSummary(store, org, AS_OF, T0)).toBe("computed"); // `org` still says GBP
    const eur = await computeDashboardSummary(store.db, { ...org, baseCurrency: "EUR" }, AS_OF);
    expect((await readDashboardSummary(store.db, org.id, AS_OF))?.dso).toEqual(eur.dso);
    expect(eur.dso.every((p) => p.dso === null)).toBe(true); // no EUR sales
  });

  it("never lets an older computation overwrite a newer one", async () => {
    const stale = await computeDashboardSummary(store.db, org, AS_OF);
    const staleVersion = await version(org);
    await store.db.update(invoices).set({ amountDueMinor: 7_000 });
    expect(await warmDashboardSummary(store, org, AS_OF, T0)).toBe("computed");
    await storeDashboardSummary(store, org.id, stale, staleVersion, T0); // a slow request finishing late
    expect((await readDashboardSummary(store.db, org.id, AS_OF))?.totals[0]?.outstandingMinor).toBe(7_000);
  });
});
