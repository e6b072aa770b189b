import { describe, expect, it } from "vitest";
import { type EarlierCharge, planCharges } from "../../src/reminders/charge-plan";
import type { ChargeableInvoice, ChargeRule } from "../../src/reminders/charges";

const statutory: ChargeRule = { kind: "uk-statutory", baseRateBp: 500 };
const inv = (over: Partial<ChargeableInvoice> = {}): ChargeableInvoice => ({
  total: 50_000,
  currency: "GBP",
  dueDate: "2026-01-01",
  applied: [],
  levelReached: 2,
  disputed: false,
  promisedBy: null,
  ...over,
});
const earlier = (kind: EarlierCharge["kind"], period: string, amountMinor: number, status: string) => ({
  kind,
  period,
  amountMinor,
  status,
});

describe("which charges a run proposes", () => {
  it.each([
    {
      label: "first time: interest for the month and compensation once",
      before: [],
      expected: [
        ["interest", "2026-01", 534],
        ["compensation", "once", 4_000],
      ],
    },
    {
      label: "the same month again: nothing (one interest charge per month)",
      before: [
        earlier("interest", "2026-01", 534, "written"),
        earlier("compensation", "once", 4_000, "written"),
      ],
      expected: [],
    },
    {
      label: "a proposal still waits: nothing more of that kind",
      before: [
        earlier("interest", "2025-12", 100, "proposed"),
        earlier("compensation", "once", 4_000, "approved"),
      ],
      expected: [],
    },
    {
      label: "a rejected charge is waived, not proposed again",
      before: [
        earlier("interest", "2025-12", 534, "rejected"),
        earlier("compensation", "once", 4_000, "rejected"),
      ],
      expected: [],
    },
  ])("$label", ({ before, expected }) => {
    const out = planCharges(statutory, inv(), "2026-01-31", before);
    expect(out.propose.map((p) => [p.kind, p.period, p.amountMinor])).toEqual(expected);
  });

  it("next month proposes only the interest not charged yet", () => {
    const out = planCharges(statutory, inv(), "2026-02-28", [
      earlier("interest", "2026-01", 534, "written"),
      earlier("compensation", "once", 4_000, "written"),
    ]);
    // 50,000 × 58 days × 13% / 365 = 1,032.88 → 1,033, less 534 already charged
    expect(out.propose.map((p) => [p.kind, p.period, p.amountMinor])).toEqual([["interest", "2026-02", 499]]);
    expect(out.propose[0]!.detail).toContain("less GBP 5.34 already charged");
  });

  it("proposes a fee per level reached, each level once", () => {
    const fixed: ChargeRule = { kind: "fixed", currency: "GBP", feePerLevel: [1_500, 2_500] };
    const one = planCharges(fixed, inv({ levelReached: 1 }), "2026-01-31", []);
    expect(one.propose.map((p) => [p.kind, p.period, p.amountMinor])).toEqual([["fee", "level-1", 1_500]]);
    const two = planCharges(fixed, inv({ levelReached: 2 }), "2026-02-10", [
      earlier("fee", "level-1", 1_500, "written"),
    ]);
    expect(two.propose.map((p) => [p.kind, p.period, p.amountMinor])).toEqual([["fee", "level-2", 2_500]]);
  });

  it.each([
    { over: { disputed: true }, reason: "in dispute" },
    { over: { promisedBy: "2026-02-15" }, reason: "promised to pay by 2026-02-15" },
  ])("proposes nothing while $reason", ({ over, reason }) => {
    expect(planCharges(statutory, inv(over), "2026-01-31", [])).toEqual({ propose: [], reason });
  });
});

describe("small interest waits", () => {
  it("does not propose interest below one major unit until it has grown", () => {
    const rule: ChargeRule = { kind: "percent", ratePerAnnumBp: 800, graceDays: 0 };
    // 5,000 × 5 days × 8% / 365 = 5.48p: too small to invoice
    expect(planCharges(rule, inv({ total: 5_000 }), "2026-01-06", []).propose).toEqual([]);
    // 5,000 × 100 days × 8% / 365 = 109.6p
    const later = planCharges(rule, inv({ total: 5_000 }), "2026-04-11", []);
    expect(later.propose.map((p) => [p.kind, p.amountMinor])).toEqual([["interest", 110]]);
  });
});
