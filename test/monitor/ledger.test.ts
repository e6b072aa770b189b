import { describe, expect, it } from "vitest";
import { customerFeatures, restrictToAsOf, scoreOrganisation } from "../../src/monitor/index";
import { buildLedger, type LedgerSpec, paymentHistory } from "./factory";

const featuresOf = (spec: LedgerSpec, asOf: string, contact = "A") => {
  const ledger = restrictToAsOf(buildLedger(spec), asOf);
  const c = ledger.contacts.find((x) => x.externalId === contact)!;
  return customerFeatures(ledger, c);
};

describe("as-of view of the ledger", () => {
  const spec: LedgerSpec = {
    contacts: ["A"],
    invoices: [
      // paid in two parts: 40.00 on 2024-02-10, the rest on 2024-03-05 (due 2024-02-14)
      {
        contact: "A",
        issue: "2024-01-15",
        due: "2024-02-14",
        total: 100_00,
        events: [{ date: "2024-02-10", amount: 40_00 }, { date: "2024-03-05" }],
      },
      { contact: "A", issue: "2024-03-20", total: 50_00, events: [] },
      { contact: "A", issue: "2024-01-01", total: 70_00, status: "void" },
      { contact: "A", issue: "2024-01-01", total: 70_00, status: "draft" },
      {
        contact: "A",
        issue: "2024-01-02",
        total: 30_00,
        noAllocations: true,
        events: [{ date: "2024-02-20" }],
      },
    ],
  };

  it.each([
    // asOf, invoices that stood, amount due of the part-paid invoice, its settlement date
    ["2024-01-14", 1, undefined, undefined],
    ["2024-02-01", 2, 100_00, null],
    ["2024-02-10", 2, 60_00, null],
    ["2024-03-04", 2, 60_00, null],
    ["2024-03-05", 2, 0, "2024-03-05"],
    ["2024-03-20", 3, 0, "2024-03-05"],
  ])("as of %s: %i invoices, the part-paid one owes %s, settled %s", (asOf, count, due, settled) => {
    const ledger = restrictToAsOf(buildLedger(spec), asOf);
    const list = ledger.invoicesByContact.get("con_A")!;
    expect(list).toHaveLength(count);
    const inv = list.find((i) => i.number === "INV-0");
    expect(inv?.dueMinor).toBe(due);
    expect(inv?.settledOn).toBe(settled);
  });

  it("uses paidOn when an invoice has no allocation rows: open before it, settled from it", () => {
    const before = restrictToAsOf(buildLedger(spec), "2024-02-19").invoicesByContact.get("con_A")!;
    const after = restrictToAsOf(buildLedger(spec), "2024-02-20").invoicesByContact.get("con_A")!;
    expect(before.find((i) => i.number === "INV-4")).toMatchObject({ dueMinor: 30_00, settledOn: null });
    expect(after.find((i) => i.number === "INV-4")).toMatchObject({ dueMinor: 0, settledOn: "2024-02-20" });
  });

  it("ignores void and draft invoices", () => {
    const list = restrictToAsOf(buildLedger(spec), "2024-12-31").invoicesByContact.get("con_A")!;
    expect(list.map((i) => i.number).sort()).toEqual(["INV-0", "INV-1", "INV-4"]);
  });
});

describe("features", () => {
  it("counts an open invoice past due as at least N days late, never as missing", () => {
    const spec: LedgerSpec = {
      contacts: ["A"],
      invoices: [
        ...paymentHistory("A", "2024-01-01", [-2, 0, -1]),
        ...paymentHistory("A", "2024-04-01", [null]),
      ],
    };
    // The 4th invoice is due 2024-05-01 and never paid.
    const cases: [string, number, number, number][] = [
      // asOf, observations, censored, share late
      ["2024-04-30", 3, 0, 0],
      ["2024-05-02", 4, 1, 0.25],
      ["2024-06-10", 4, 1, 0.25],
    ];
    for (const [asOf, n, censored, share] of cases) {
      const f = featuresOf(spec, asOf);
      expect(f.observations).toHaveLength(n);
      expect(f.censoredCount).toBe(censored);
      expect(f.shareLate).toBe(share);
    }
    const f = featuresOf(spec, "2024-06-10");
    expect(f.observations.at(-1)).toMatchObject({ censored: true, daysBeyondTerms: 40 });
    expect(f.oldestOverdueDays).toBe(40);
    expect(f.overdueCount).toBe(1);
    expect(f.buckets["31-60"]).toBe(100_00);
    expect(f.meanDaysBeyondTerms).toBeCloseTo((-2 + 0 - 1 + 40) / 4);
  });

  it("reduces exposure by credit notes, and leaves invoices cancelled by a credit note out of paying habits", () => {
    const spec: LedgerSpec = {
      contacts: ["A"],
      invoices: [
        // 100.00, 30.00 credited on 2024-02-01, still open: owes 70.00
        {
          contact: "A",
          issue: "2024-01-01",
          total: 100_00,
          events: [{ date: "2024-02-01", amount: 30_00, kind: "credit_note", creditNoteId: "cn1" }],
        },
        // fully cancelled by a credit note
        {
          contact: "A",
          issue: "2024-01-05",
          total: 50_00,
          events: [{ date: "2024-01-10", kind: "credit_note", creditNoteId: "cn2" }],
        },
      ],
      creditNotes: [
        { id: "cn1", contact: "A", issue: "2024-01-20", total: 30_00 },
        { id: "cn2", contact: "A", issue: "2024-01-10", total: 50_00 },
        // unapplied credit of 20.00
        { id: "cn3", contact: "A", issue: "2024-02-15", total: 20_00 },
      ],
    };
    const f = featuresOf(spec, "2024-03-01");
    expect(f.outstandingMinor).toBe(70_00 - 20_00);
    expect(f.overdueMinor).toBe(70_00);
    expect(f.unappliedCreditMinor).toBe(20_00);
    expect(f.observations.map((o) => o.censored)).toEqual([true]);
    // Before the unapplied credit note existed it did not count.
    expect(featuresOf(spec, "2024-02-14").outstandingMinor).toBe(70_00);
  });

  it("settles a part-paid invoice on the payment that cleared it and records the instalment habit", () => {
    const spec: LedgerSpec = {
      contacts: ["A"],
      invoices: [
        {
          contact: "A",
          issue: "2024-01-01",
          due: "2024-01-31",
          total: 90_00,
          events: [
            { date: "2024-01-20", amount: 30_00 },
            { date: "2024-02-05", amount: 30_00 },
            { date: "2024-02-15", amount: 30_00 },
          ],
        },
        {
          contact: "A",
          issue: "2024-02-01",
          due: "2024-03-02",
          total: 10_00,
          events: [{ date: "2024-03-01" }],
        },
      ],
    };
    const f = featuresOf(spec, "2024-03-10");
    expect(f.observations.map((o) => o.daysBeyondTerms)).toEqual([15, -1]);
    expect(f.partialPaymentShare).toBe(0.5);
    const mid = featuresOf(spec, "2024-02-10");
    // 30.00 left on the first invoice, 10.00 on the second (not due yet).
    expect(mid.outstandingMinor).toBe(40_00);
    expect(mid.overdueMinor).toBe(30_00);
    expect(mid.observations).toMatchObject([{ censored: true, daysBeyondTerms: 10 }]);
  });

  it("reports amounts in the customer's main currency and never adds currencies together", () => {
    const spec: LedgerSpec = {
      baseCurrency: "GBP",
      contacts: ["A", "B"],
      invoices: [
        ...paymentHistory("A", "2024-01-01", [null, null], { total: 100_00, currency: "EUR" }),
        ...paymentHistory("A", "2024-01-01", [null], { total: 1_000_00, currency: "GBP" }),
        ...paymentHistory("B", "2024-01-01", [null], { total: 500, currency: "JPY" }),
        ...paymentHistory("B", "2024-02-01", [null], { total: 7_00, currency: "GBP" }),
      ],
    };
    const a = featuresOf(spec, "2024-06-01", "A");
    expect(a.currency).toBe("EUR");
    expect(a.outstandingMinor).toBe(200_00);
    expect(a.otherCurrencies).toEqual([
      { currency: "GBP", outstandingMinor: 1_000_00, overdueMinor: 1_000_00, openCount: 1, overdueCount: 1 },
    ]);
    // A tie goes to the base currency.
    const b = featuresOf(spec, "2024-06-01", "B");
    expect(b.currency).toBe("GBP");
    expect(b.outstandingMinor).toBe(7_00);
    const scores = scoreOrganisation(buildLedger(spec), "2024-06-01");
    expect(scores.find((s) => s.customer_id === "A")).toMatchObject({ currency: "EUR", outstanding: 200_00 });
    expect(scores.find((s) => s.customer_id === "A")!.reasons.join(" ")).toContain("£1,000.00");
  });

  it("computes credit-limit utilisation in the base currency", () => {
    const spec: LedgerSpec = {
      contacts: [{ id: "A", creditLimitMinor: 1_000_00 }],
      invoices: paymentHistory("A", "2024-01-01", [null, null], { total: 600_00 }),
    };
    expect(featuresOf(spec, "2024-02-15").creditUtilisation).toBeCloseTo(1.2);
  });

  it("handles a customer with a single invoice", () => {
    const spec: LedgerSpec = { contacts: ["A"], invoices: paymentHistory("A", "2024-01-01", [5]) };
    const f = featuresOf(spec, "2024-03-01");
    expect(f).toMatchObject({
      settledCount: 1,
      meanDaysBeyondTerms: 5,
      recencyWeightedDaysBeyondTerms: 5,
      averageDaysDelinquent: 5,
      shareLate: 1,
      outstandingMinor: 0,
      invoiceCount: 1,
    });
    const [s] = scoreOrganisation(buildLedger(spec), "2024-03-01");
    expect(s).toMatchObject({ customer_id: "A", trend: "insufficient_data" });
    expect(s!.late_probability).toBeGreaterThan(0);
    expect(s!.late_probability).toBeLessThan(1);
  });
});
