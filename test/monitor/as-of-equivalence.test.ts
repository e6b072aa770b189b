import { describe, expect, it } from "vitest";
import { addDays } from "../../src/model";
import { forecastOrganisation, scoreOrganisation } from "../../src/monitor/index";
import { buildLedger, type LedgerSpec, paymentHistory } from "./factory";

/** Deterministic noise in [-amp, amp]. */
function noise(i: number, amp: number): number {
  const x = Math.sin(i * 7.31 + 1.7) * 10_000;
  return Math.round((x - Math.floor(x) - 0.5) * 2 * amp);
}

const spec: LedgerSpec = {
  contacts: [{ id: "A", creditLimitMinor: 500_00 }, "B", "C", "D", "E"],
  invoices: [
    ...paymentHistory(
      "A",
      "2023-01-10",
      Array.from({ length: 18 }, (_, i) => (i < 12 ? -3 : 14) + noise(i, 4)),
    ),
    ...paymentHistory(
      "B",
      "2023-02-01",
      Array.from({ length: 16 }, (_, i) => 8 + noise(i + 40, 6)),
      {
        everyDays: 25,
      },
    ),
    ...paymentHistory("C", "2023-06-01", [2, null, 5, null, 1], { currency: "EUR" }),
    // part payments, credit notes and a payment recorded only as paidOn
    {
      contact: "D",
      issue: "2023-03-01",
      total: 300_00,
      events: [
        { date: "2023-03-20", amount: 100_00 },
        { date: "2023-04-25", amount: 50_00, kind: "credit_note", creditNoteId: "cn1" },
        { date: "2023-06-02" },
      ],
    },
    {
      contact: "D",
      issue: "2023-05-01",
      total: 80_00,
      noAllocations: true,
      events: [{ date: "2023-07-15" }],
    },
    ...paymentHistory("D", "2023-06-01", [0, 20, null, -4, 30]),
    ...paymentHistory("E", "2024-01-15", [3]),
  ],
  creditNotes: [
    { id: "cn1", contact: "D", issue: "2023-04-20", total: 70_00 },
    { id: "cn2", contact: "B", issue: "2023-09-09", total: 40_00 },
  ],
};

describe("as-of equivalence", () => {
  const full = buildLedger(spec);
  const dates = [
    "2023-01-05",
    "2023-04-01",
    "2023-06-01",
    "2023-07-14",
    "2023-07-15",
    "2023-11-30",
    "2024-02-29",
  ];
  it.each(dates)("scoring the full ledger as of %s equals scoring the ledger as it stood that day", (d) => {
    const stood = buildLedger(spec, d);
    expect(scoreOrganisation(full, d)).toEqual(scoreOrganisation(stood, d));
  });

  it.each(dates)(
    "forecasting the full ledger as of %s equals forecasting the ledger as it stood that day",
    (d) => {
      const stood = buildLedger(spec, d);
      const f = forecastOrganisation(full, d);
      expect(f).toEqual(forecastOrganisation(stood, d));
      if (d >= "2023-04-01") expect(f.some((c) => c.invoices.length > 0)).toBe(true);
    },
  );

  it("is deterministic and does not depend on row order", () => {
    const d = "2024-02-29";
    const shuffled = {
      ...full,
      invoices: [...full.invoices].reverse(),
      allocations: [...full.allocations].reverse(),
      contacts: [...full.contacts].reverse(),
    };
    expect(scoreOrganisation(shuffled, d)).toEqual(scoreOrganisation(full, d));
    expect(forecastOrganisation(shuffled, d)).toEqual(forecastOrganisation(full, d));
  });

  it("changes as the ledger moves on: a payment after asOf does not count until its day", () => {
    const day = (d: string) => scoreOrganisation(full, d).find((s) => s.customer_id === "D")!;
    expect(day("2023-06-01").outstanding).toBeGreaterThan(day(addDays("2023-06-01", 1)).outstanding);
  });
});
