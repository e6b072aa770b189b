/**
 * The dashboard's figures (aging, overdue at a date, the DSO series) are computed by optimised queries. Here
 * they must equal a straightforward computation, invoice by invoice, over a small seeded ledger with partial
 * payments, credit notes, void and draft invoices, disputes, deleted payments, payments dated after the as-of
 * date, several currencies (DSO counts the base currency only) and invoices older than the DSO look-back.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGING_BUCKETS, type AgingBucket, addDays, daysBetween, type IsoDate } from "../../src/model";
import { agingByCustomer } from "../../src/store/aging";
import {
  computeDashboardSummary,
  readDashboardSummary,
  warmDashboardSummary,
} from "../../src/store/dashboard-summary";
import type { Store } from "../../src/store/db";
import { dsoDates, dsoSeries, overdueAt } from "../../src/store/figures";
import type { Organisation } from "../../src/store/orgs";
import {
  contacts,
  creditNoteAllocations,
  creditNotes,
  invoices,
  organisations,
  paymentAllocations,
  payments,
} from "../../src/store/schema";
import { testStore } from "../support/db";

type Status = "draft" | "authorised" | "paid" | "void" | "submitted";
interface Inv {
  id: string;
  contactId: string;
  issueDate: IsoDate;
  dueDate: IsoDate;
  currency: string;
  totalMinor: number;
  status: Status;
  disputed: boolean;
  amountPaidMinor: number;
  amountCreditedMinor: number;
  amountDueMinor: number;
  paidOn: IsoDate | null;
}
interface Alloc {
  invoiceId: string;
  amountMinor: number;
  date: IsoDate;
  deleted: boolean;
  kind: "payment" | "credit";
}

/** A small deterministic pseudo-random generator (mulberry32). */
function rng(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const AS_OF = "2026-11-20";
const NOW = Date.parse("2026-11-20T10:00:00Z");

function generate(seed: number) {
  const r = rng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
  const contactIds = Array.from({ length: 8 }, (_, k) => `cus_${k}`);
  const invs: Inv[] = [];
  const allocs: Alloc[] = [];
  for (let k = 0; k < 400; k++) {
    // Issued over three years up to a few days past the as-of date (future-dated invoices exist too).
    const issueDate = addDays(AS_OF, 5 - Math.floor(r() * 1100));
    const dueDate = addDays(issueDate, pick([0, 14, 30, 30, 60]));
    const totalMinor = 1000 + Math.floor(r() * 100_000);
    const currency = pick(["GBP", "GBP", "GBP", "EUR", "USD"]);
    const inv: Inv = {
      id: `inv_${k}`,
      contactId: pick(contactIds),
      issueDate,
      dueDate,
      currency,
      totalMinor,
      status: pick(["authorised", "authorised", "authorised", "authorised", "void", "draft", "submitted"]),
      disputed: r() < 0.05,
      amountPaidMinor: 0,
      amountCreditedMinor: 0,
      amountDueMinor: totalMinor,
      paidOn: null,
    };
    invs.push(inv);
    if (inv.status === "void" || inv.status === "draft") continue;
    // Up to three settlements: payments (some deleted) and credit notes, possibly dated after the as-of date.
    let left = totalMinor;
    let date = issueDate;
    const n = Math.floor(r() * 4);
    for (let j = 0; j < n && left > 0; j++) {
      date = addDays(date, Math.floor(r() * 70));
      const full = r() < 0.6;
      const amountMinor = full ? left : Math.min(left, 100 + Math.floor(r() * (totalMinor / 2)));
      const kind = r() < 0.2 ? "credit" : "payment";
      const deleted = kind === "payment" && r() < 0.1;
      allocs.push({ invoiceId: inv.id, amountMinor, date, deleted, kind });
      if (deleted) continue;
      left -= amountMinor;
      if (kind === "credit") inv.amountCreditedMinor += amountMinor;
      else inv.amountPaidMinor += amountMinor;
      if (left === 0) {
        inv.status = "paid";
        inv.paidOn = date;
      }
    }
    inv.amountDueMinor = left;
  }
  // A settlement date before the issue date (bad provider data) must not count as a receivable anywhere.
  const odd = invs.find((i) => i.status === "paid" && i.currency === "GBP");
  if (odd) odd.paidOn = addDays(odd.issueDate, -3);
  return { contactIds, invs, allocs };
}

async function write(store: Store, org: Organisation, data: ReturnType<typeof generate>) {
  const { db } = store;
  const t = { createdAt: NOW, updatedAt: NOW };
  await db.insert(organisations).values(org);
  for (const id of data.contactIds)
    await db
      .insert(contacts)
      .values({ id, orgId: org.id, externalId: id, name: `Customer ${id}`, emails: [], ...t });
  for (const i of data.invs)
    await db.insert(invoices).values({
      id: i.id,
      orgId: org.id,
      contactId: i.contactId,
      externalId: i.id,
      number: i.id,
      issueDate: i.issueDate,
      dueDate: i.dueDate,
      currency: i.currency,
      totalMinor: i.totalMinor,
      amountPaidMinor: i.amountPaidMinor,
      amountCreditedMinor: i.amountCreditedMinor,
      amountDueMinor: i.amountDueMinor,
      status: i.status,
      paidOn: i.paidOn,
      disputedAt: i.disputed ? NOW : null,
      ...t,
    });
  const byId = new Map(data.invs.map((i) => [i.id, i]));
  let k = 0;
  for (const a of data.allocs) {
    const inv = byId.get(a.invoiceId)!;
    const id = `${a.kind}_${k++}`;
    if (a.kind === "payment") {
      await db.insert(payments).values({
        id,
        orgId: org.id,
        contactId: inv.contactId,
        externalId: id,
        date: a.date,
        currency: inv.currency,
        amountMinor: a.amountMinor,
        deleted: a.deleted,
        ...t,
      });
      await db.insert(paymentAllocations).values({
        paymentId: id,
        invoiceId: inv.id,
        orgId: org.id,
        amountMinor: a.amountMinor,
        date: a.date,
      });
    } else {
      await db.insert(creditNotes).values({
        id,
        orgId: org.id,
        contactId: inv.contactId,
        externalId: id,
        issueDate: a.date,
        currency: inv.currency,
        totalMinor: a.amountMinor,
        remainingMinor: 0,
        status: "paid",
        ...t,
      });
      await db.insert(creditNoteAllocations).values({
        creditNoteId: id,
        invoiceId: inv.id,
        orgId: org.id,
        amountMinor: a.amountMinor,
        date: a.date,
      });
    }
  }
}

// --- the reference computations: one invoice at a time, straight from the definitions ---

const counted = (i: Inv) => i.status === "authorised" || i.status === "submitted" || i.status === "paid";

function referenceAging(invs: Inv[], asOf: IsoDate) {
  const out = new Map<
    string,
    { outstanding: number; buckets: Record<AgingBucket, number>; oldest: number }
  >();
  for (const i of invs) {
    if (
      !(i.status === "authorised" || i.status === "submitted") ||
      i.amountDueMinor <= 0 ||
      i.issueDate > asOf
    )
      continue;
    const key = `${i.contactId}|${i.currency}`;
    const row = out.get(key) ?? {
      outstanding: 0,
      buckets: { current: 0, "1-30": 0, "31-60": 0, "61-90": 0, "90+": 0 },
      oldest: 0,
    };
    const late = daysBetween(i.dueDate, asOf);
    const b: AgingBucket =
      late <= 0 ? "current" : late <= 30 ? "1-30" : late <= 60 ? "31-60" : late <= 90 ? "61-90" : "90+";
    row.buckets[b] += i.amountDueMinor;
    row.outstanding += i.amountDueMinor;
    row.oldest = Math.max(row.oldest, late);
    out.set(key, row);
  }
  return out;
}

function referenceOverdue(invs: Inv[], allocs: Alloc[], date: IsoDate) {
  const out = new Map<string, number>();
  for (const i of invs) {
    if (!counted(i) || i.disputed || i.issueDate > date || i.dueDate >= date) continue;
    if (i.paidOn !== null && i.paidOn <= date) continue;
    let owed = i.totalMinor;
    for (const a of allocs) if (a.invoiceId === i.id && !a.deleted && a.date <= date) owed -= a.amountMinor;
    out.set(i.currency, (out.get(i.currency) ?? 0) + Math.max(0, owed));
  }
  return out;
}

/** DSO at each date: receivables / credit sales of the 90 days up to it x 90 (base currency, 400-day look-back). */
function referenceDso(invs: Inv[], base: string, dates: IsoDate[]) {
  const lookBack = addDays(dates[0]!, -400);
  return dates.map((d) => {
    let ar = 0;
    let sales = 0;
    for (const i of invs) {
      if (!counted(i) || i.currency !== base || i.issueDate < lookBack || i.issueDate > d) continue;
      if (i.paidOn === null || i.paidOn > d) ar += i.totalMinor - i.amountCreditedMinor;
      if (i.issueDate > addDays(d, -90)) sales += i.totalMinor;
    }
    return { month: d.slice(0, 7), date: d, dso: sales > 0 ? Math.round((ar / sales) * 90) : null };
  });
}

describe("dashboard figures", () => {
  let store: Store;
  const data = generate(11);
  const org: Organisation = {
    id: "org_ref",
    slug: "ref",
    name: "Reference Ltd",
    baseCurrency: "GBP",
    timezone: "Europe/London",
    country: "GB",
    locale: "en-GB",
    provider: "csv",
    isDemo: false,
    createdAt: NOW,
    updatedAt: NOW,
    ledgerVersion: 0,
  };
  beforeAll(async () => {
    store = testStore();
    await write(store, org, data);
  });
  afterAll(async () => {
    await store.close();
  });

  it("seeds the cases the optimisations must get right", () => {
    const { invs, allocs } = data;
    expect(invs.some((i) => i.status === "void")).toBe(true);
    expect(invs.some((i) => i.status === "paid" && i.amountCreditedMinor > 0)).toBe(true);
    expect(invs.some((i) => i.status === "authorised" && i.amountDueMinor < i.totalMinor)).toBe(true);
    expect(invs.some((i) => i.disputed && counted(i))).toBe(true);
    expect(invs.some((i) => i.issueDate > AS_OF)).toBe(true);
    expect(allocs.some((a) => a.deleted)).toBe(true);
    expect(allocs.some((a) => a.date > AS_OF)).toBe(true);
    expect(invs.some((i) => i.currency !== "GBP" && i.status === "authorised")).toBe(true);
  });

  for (const asOf of [AS_OF, "2026-11-13", "2026-06-30", "2025-03-01"]) {
    it(`aging as of ${asOf} equals the invoice-by-invoice computation`, async () => {
      const got = await agingByCustomer(store.db, org.id, asOf);
      const want = referenceAging(data.invs, asOf);
      expect(got.length).toBe(want.size);
      for (const a of got) {
        const w = want.get(`${a.contactId}|${a.currency}`)!;
        expect(a.outstandingMinor).toBe(w.outstanding);
        expect(a.buckets).toEqual(w.buckets);
        expect(a.overdueMinor).toBe(w.outstanding - w.buckets.current);
        expect(a.oldestOverdueDays).toBe(w.oldest);
      }
    });

    it(`overdue on ${asOf} equals the invoice-by-invoice computation`, async () => {
      expect(await overdueAt(store.db, org.id, asOf)).toEqual(referenceOverdue(data.invs, data.allocs, asOf));
    });

    it(`DSO series to ${asOf} equals the invoice-by-invoice computation`, async () => {
      for (const base of ["GBP", "EUR"])
        for (const months of [12, 3, 1]) {
          const got = await dsoSeries(store.db, { ...org, baseCurrency: base }, asOf, months);
          expect(got).toEqual(referenceDso(data.invs, base, dsoDates(asOf, months)));
        }
    });
  }

  it("serves the same figures from the summary cache as the live queries, as of each date", async () => {
    for (const asOf of [AS_OF, "2026-11-13", "2026-06-30"]) {
      const live = await computeDashboardSummary(store.db, org, asOf);
      expect(await warmDashboardSummary(store, org, asOf, NOW)).toBe("computed");
      expect(await readDashboardSummary(store.db, org.id, asOf)).toEqual(live);
      expect(live.overdue).toEqual(Object.fromEntries(referenceOverdue(data.invs, data.allocs, asOf)));
      expect(live.dso).toEqual(referenceDso(data.invs, org.baseCurrency, dsoDates(asOf, 12)));
    }
  });

  it("has something in every aging bucket and a DSO at every point", async () => {
    const totals = Object.fromEntries(AGING_BUCKETS.map((b) => [b, 0]));
    for (const a of await agingByCustomer(store.db, org.id, AS_OF))
      for (const b of AGING_BUCKETS) totals[b]! += a.buckets[b];
    for (const b of AGING_BUCKETS) expect(totals[b]).toBeGreaterThan(0);
    expect((await dsoSeries(store.db, org, AS_OF, 12)).every((p) => p.dso !== null)).toBe(true);
  });
});
