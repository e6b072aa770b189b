import { describe, expect, it } from "vitest";
import { createRandom } from "../../src/demo/random";
import { addDays } from "../../src/model";
import type { OrgInput } from "../../src/model/monitor";
import { forecastOrganisation, scoreOrganisation, withinHorizon } from "../../src/monitor/index";
import type { Store } from "../../src/store/db";
import { loadMonitorInput } from "../../src/store/monitor-input";
import { ensureOrg, type Organisation } from "../../src/store/orgs";
import {
  contacts,
  creditNoteAllocations,
  creditNotes,
  invoices,
  paymentAllocations,
  payments,
} from "../../src/store/schema";
import { testStore } from "../support/db";
import { referenceLoadMonitorInput } from "../support/reference-monitor-load";

const STATUSES = ["authorised", "paid", "authorised", "submitted", "void", "deleted", "draft"] as const;

/**
 * A messy organisation: part payments, payments of several invoices, a deleted payment, credit notes (applied,
 * unapplied, void), void/deleted/draft invoices, disputed invoices, two currencies, credit limits, a deleted
 * customer, and invoice numbers holding the loader's separator or JSON-awkward text.
 */
async function seed(store: Store, slug: string, seedNo: number, count = 40): Promise<Organisation> {
  const random = createRandom(seedNo);
  const rnd = () => random.next();
  const now = 1_700_000_000_000;
  const { org } = await ensureOrg(
    store.db,
    { slug, name: slug, baseCurrency: "GBP", timezone: "Europe/London", provider: "csv" },
    now,
  );
  const stamp = { createdAt: now, updatedAt: now };
  const conIds: string[] = [];
  for (let c = 0; c < 6; c++) {
    const id = `con_${slug}_${c}`;
    conIds.push(id);
    await store.db.insert(contacts).values({
      id,
      orgId: org.id,
      externalId: `C${c}`,
      name: c === 2 ? 'Quote "and" \\ back, slash' : `Customer ${c}`,
      emails: [],
      creditLimitMinor: c % 2 === 0 ? 100_000 * (c + 1) : null,
      deleted: c === 5,
      ...stamp,
    });
  }
  let invSeq = 0;
  let paySeq = 0;
  const invList: { id: string; contactId: string; currency: string; total: number; issueDate: string }[] = [];
  for (let k = 0; k < count; k++) {
    const contactId = conIds[k % conIds.length]!;
    const currency = k % 7 === 3 ? "EUR" : "GBP";
    const issueDate = addDays("2024-01-01", Math.floor(rnd() * (count > 40 ? 900 : 500)));
    const total = 1_000 + Math.floor(rnd() * 90_000);
    const status = STATUSES[Math.floor(rnd() * STATUSES.length)]!;
    const paidPart = status === "paid" ? total : rnd() < 0.4 ? Math.floor(total / 3) : 0;
    const id = `inv_${slug}_${invSeq++}`;
    const numbers = [`INV-${k}`, `A\u001fB-${k}`, `"${k}" \\ é`, ""];
    await store.db.insert(invoices).values({
      id,
      orgId: org.id,
      contactId,
      externalId: `X${k}`,
      number: numbers[k % numbers.length]!,
      issueDate,
      dueDate: addDays(issueDate, 30),
      currency,
      totalMinor: k === 9 ? 0 : total,
      amountPaidMinor: paidPart,
      amountCreditedMinor: 0,
      amountDueMinor: total - paidPart,
      status,
      paidOn: status === "paid" ? addDays(issueDate, 20 + Math.floor(rnd() * 40)) : null,
      disputedAt: k % 11 === 4 ? now : null,
      ...stamp,
    });
    invList.push({ id, contactId, currency, total, issueDate });
    if (paidPart > 0) {
      // Paid in one or two instalments; every fifth payment is deleted.
      const parts =
        status === "paid" && rnd() < 0.5
          ? [Math.floor(paidPart / 2), paidPart - Math.floor(paidPart / 2)]
          : [paidPart];
      for (const [j, amount] of parts.entries()) {
        const payId = `pay_${slug}_${paySeq++}`;
        const date = addDays(issueDate, 10 + 15 * j);
        await store.db.insert(payments).values({
          id: payId,
          orgId: org.id,
          contactId,
          externalId: `P${payId}`,
          date,
          currency,
          amountMinor: amount,
          deleted: paySeq % 5 === 0,
          ...stamp,
        });
        await store.db
          .insert(paymentAllocations)
          .values({ paymentId: payId, invoiceId: id, orgId: org.id, amountMinor: amount, date });
      }
    }
  }
  // One payment across two invoices.
  const [a, b] = [invList[1]!, invList[7]!];
  await store.db.insert(payments).values({
    id: `pay_${slug}_multi`,
    orgId: org.id,
    contactId: a.contactId,
    externalId: "PMULTI",
    date: "2025-03-01",
    currency: "GBP",
    amountMinor: 1_500,
    ...stamp,
  });
  for (const inv of [a, b]) {
    await store.db.insert(paymentAllocations).values({
      paymentId: `pay_${slug}_multi`,
      invoiceId: inv.id,
      orgId: org.id,
      amountMinor: 750,
      date: "2025-03-01",
    });
  }
  for (let n = 0; n < 5; n++) {
    const inv = invList[3 * n + 2]!;
    const id = `cn_${slug}_${n}`;
    await store.db.insert(creditNotes).values({
      id,
      orgId: org.id,
      contactId: inv.contactId,
      externalId: `CN${n}`,
      number: `CN-${n}`,
      issueDate: addDays(inv.issueDate, 5),
      currency: n === 4 ? "EUR" : inv.currency,
      totalMinor: 2_000 + 500 * n,
      remainingMinor: 1_000,
      status: n === 3 ? "void" : "authorised",
      ...stamp,
    });
    if (n < 3) {
      await store.db.insert(creditNoteAllocations).values({
        creditNoteId: id,
        invoiceId: inv.id,
        orgId: org.id,
        amountMinor: 1_000 + 100 * n,
        date: addDays(inv.issueDate, 6 + n),
      });
    }
  }
  return org;
}

/** The input with every list in one canonical order (neither loader promises a row order). */
function canonical(input: OrgInput): OrgInput {
  const key = (x: object) => JSON.stringify(x);
  const sorted = <T extends object>(xs: readonly T[]) => [...xs].sort((p, q) => (key(p) < key(q) ? -1 : 1));
  return {
    baseCurrency: input.baseCurrency,
    contacts: sorted(input.contacts),
    invoices: sorted(input.invoices),
    allocations: sorted(input.allocations),
    creditNotes: sorted(input.creditNotes ?? []),
  };
}

describe("loadMonitorInput", () => {
  it("returns exactly what the straightforward loader returns, page size aside", async () => {
    const store = testStore();
    const other = await seed(store, "other", 5);
    const org = await seed(store, "acme", 1);
    const expected = await referenceLoadMonitorInput(store.db, org);
    // The seeded rows are all there (disputed invoices and deleted payments' allocations left out).
    expect(expected.contacts).toHaveLength(6);
    expect(expected.invoices.length).toBeGreaterThan(30);
    expect(expected.invoices.length).toBeLessThan(40);
    expect(expected.invoices.some((i) => i.number.includes("\u001f"))).toBe(true);
    expect(expected.allocations.some((a) => a.kind === "credit_note")).toBe(true);
    expect(new Set(expected.invoices.map((i) => i.currency))).toEqual(new Set(["GBP", "EUR"]));
    for (const pageRows of [16_384, 1, 2, 3, 7, 64]) {
      const got = await loadMonitorInput(store.db, org, pageRows);
      expect(canonical(got)).toEqual(canonical(expected));
      for (const asOf of ["2024-06-30", "2025-01-31", "2026-01-01"]) {
        expect(scoreOrganisation(got, asOf)).toEqual(scoreOrganisation(expected, asOf));
      }
    }
    expect(canonical(await loadMonitorInput(store.db, other))).toEqual(
      canonical(await referenceLoadMonitorInput(store.db, other)),
    );
    await store.close();
  });

  it("as of a date, reads only the history scoring needs, and scores and forecasts exactly as the whole ledger", async () => {
    const store = testStore();
    await seed(store, "other", 7, 300);
    const org = await seed(store, "acme", 3, 300);
    const full = await referenceLoadMonitorInput(store.db, org);
    for (const asOf of ["2024-09-30", "2025-06-30", "2026-08-01"]) {
      const cut = await loadMonitorInput(store.db, org, undefined, asOf);
      expect(scoreOrganisation(cut, asOf)).toEqual(scoreOrganisation(full, asOf));
      expect(forecastOrganisation(cut, asOf)).toEqual(forecastOrganisation(full, asOf));
      // What it leaves out is older, paid history (and rows scoring ignores), not open invoices.
      const kept = new Set(cut.invoices.map((i) => i.id));
      for (const i of withinHorizon(full, asOf).invoices) {
        if (
          i.issueDate <= asOf &&
          i.status !== "void" &&
          i.status !== "deleted" &&
          i.status !== "draft" &&
          i.totalMinor > 0
        )
          expect(kept.has(i.id), i.id).toBe(true);
      }
      if (asOf === "2026-08-01") expect(cut.invoices.length).toBeLessThan(full.invoices.length * 0.9);
    }
    await store.close();
  });

  it("reads an organisation with no ledger as empty lists", async () => {
    const store = testStore();
    const { org } = await ensureOrg(
      store.db,
      { slug: "empty", name: "Empty", baseCurrency: "EUR", timezone: "Europe/Paris", provider: "csv" },
      0,
    );
    expect(await loadMonitorInput(store.db, org)).toEqual({
      baseCurrency: "EUR",
      contacts: [],
      invoices: [],
      allocations: [],
      creditNotes: [],
    });
    await store.close();
  });
});
