import { describe, expect, it } from "vitest";
import { type ChargeableInvoice, type ChargeRule, chargeFor } from "../../src/reminders/charges";

const statutory: ChargeRule = { kind: "uk-statutory", baseRateBp: 500 }; // 8% + 5% = 13% a year
const percent: ChargeRule = { kind: "percent", ratePerAnnumBp: 1200, graceDays: 14 };
const fixed: ChargeRule = { kind: "fixed", currency: "GBP", feePerLevel: [1500, 2500, 4000] };

const invoice = (over: Partial<ChargeableInvoice> = {}): ChargeableInvoice => ({
  total: 50_000,
  currency: "GBP",
  dueDate: "2026-01-01",
  applied: [],
  levelReached: 1,
  disputed: false,
  promisedBy: null,
  ...over,
});

describe("UK statutory interest and compensation", () => {
  // interest = balance × days × 13% / 365, rounded half up; compensation by invoice size
  it.each([
    { label: "under £1,000", total: 50_000, interest: 534, compensation: 4_000 },
    { label: "just under £1,000", total: 99_999, interest: 1_068, compensation: 4_000 },
    { label: "£1,000 to under £10,000", total: 500_000, interest: 5_342, compensation: 7_000 },
    { label: "from £10,000", total: 1_000_000, interest: 10_685, compensation: 10_000 },
  ])("$label: 30 days late", ({ total, interest, compensation }) => {
    const out = chargeFor(statutory, invoice({ total }), "2026-01-31");
    expect(out).toEqual({
      charge: true,
      due: { interest, compensation, fees: 0, total: interest + compensation, currency: "GBP", daysLate: 30 },
      alreadyCharged: 0,
      toPropose: interest + compensation,
    });
  });

  it("charges interest on what was still owed each day after a part payment", () => {
    // £1,000 owed for 10 days, then £600 for 20 days: (100,000×10 + 60,000×20) × 13% / 365 = 783.56
    const out = chargeFor(
      statutory,
      invoice({ total: 100_000, applied: [{ date: "2026-01-11", minor: 40_000 }] }),
      "2026-01-31",
    );
    expect(out.charge && out.due.interest).toBe(784);
    expect(out.charge && out.due.compensation).toBe(7_000);
  });

  it("ignores money applied before the due date for the days, but not for the balance", () => {
    const out = chargeFor(
      statutory,
      invoice({ total: 100_000, applied: [{ date: "2025-12-20", minor: 50_000 }] }),
      "2026-01-31",
    );
    expect(out.charge && out.due.interest).toBe(534); // 50,000 × 30 days, as in the first row
  });

  it("applies to GBP debts only", () => {
    expect(chargeFor(statutory, invoice({ currency: "EUR" }), "2026-01-31")).toEqual({
      charge: false,
      reason: "UK statutory interest applies to GBP debts, not EUR",
    });
  });
});

describe("a yearly percentage after a grace period", () => {
  it.each([
    { asOf: "2026-01-11", expected: { charge: false, reason: "within the 14-day grace period" } },
    { asOf: "2026-01-15", expected: { charge: false, reason: "within the 14-day grace period" } },
  ])("charges nothing $asOf, inside the grace period", ({ asOf, expected }) => {
    expect(chargeFor(percent, invoice({ total: 100_000 }), asOf)).toEqual(expected);
  });

  it("counts from the due date once the grace period has passed", () => {
    // 100,000 × 15 days × 12% / 365 = 493.15
    const out = chargeFor(percent, invoice({ total: 100_000 }), "2026-01-16");
    expect(out.charge && out.due).toEqual({
      interest: 493,
      compensation: 0,
      fees: 0,
      total: 493,
      currency: "GBP",
      daysLate: 15,
    });
  });

  it("rounds half a minor unit up, once", () => {
    // 1,825 × 1 day × 10% / 365 = 0.5
    const rule: ChargeRule = { kind: "percent", ratePerAnnumBp: 1000, graceDays: 0 };
    const out = chargeFor(rule, invoice({ total: 1_825 }), "2026-01-02");
    expect(out.charge && out.due.interest).toBe(1);
  });
});

describe("a fixed fee per level", () => {
  it.each([
    { levelReached: 0, fees: 0 },
    { levelReached: 1, fees: 1_500 },
    { levelReached: 2, fees: 4_000 },
    { levelReached: 3, fees: 8_000 },
    { levelReached: 5, fees: 8_000 },
  ])("level $levelReached reached: $fees", ({ levelReached, fees }) => {
    const out = chargeFor(fixed, invoice({ levelReached }), "2026-01-31");
    expect(out.charge && out.due.fees).toBe(fees);
  });

  it("proposes only what earlier approved charges did not cover", () => {
    const out = chargeFor(fixed, invoice({ levelReached: 2 }), "2026-01-31", 1_500);
    expect(out.charge && out.toPropose).toBe(2_500);
    const again = chargeFor(fixed, invoice({ levelReached: 2 }), "2026-01-31", 4_000);
    expect(again.charge && again.toPropose).toBe(0);
  });

  it("does not charge a fee set in another currency", () => {
    expect(chargeFor(fixed, invoice({ currency: "USD" }), "2026-01-31")).toEqual({
      charge: false,
      reason: "fees are set in GBP, the invoice is in USD",
    });
  });
});

describe("when nothing is charged", () => {
  it.each([
    { label: "a dispute stands", over: { disputed: true }, reason: "in dispute" },
    {
      label: "a promise to pay stands",
      over: { promisedBy: "2026-02-05" },
      reason: "promised to pay by 2026-02-05",
    },
    {
      label: "the promise falls on the day",
      over: { promisedBy: "2026-01-31" },
      reason: "promised to pay by 2026-01-31",
    },
    {
      label: "the invoice is paid",
      over: { applied: [{ date: "2026-01-20", minor: 50_000 }] },
      reason: "paid",
    },
  ])("$label", ({ over, reason }) => {
    for (const rule of [statutory, percent, fixed]) {
      expect(chargeFor(rule, invoice(over), "2026-01-31")).toEqual({ charge: false, reason });
    }
  });

  it("charges again once a promise is broken", () => {
    const out = chargeFor(statutory, invoice({ promisedBy: "2026-01-20" }), "2026-01-31");
    expect(out.charge && out.due.total).toBe(534 + 4_000);
  });

  it("charges nothing before the due date has passed", () => {
    expect(chargeFor(statutory, invoice(), "2026-01-01")).toEqual({ charge: false, reason: "not overdue" });
  });
});
