import { describe, expect, it } from "vitest";
import { addDays } from "../../src/model";
import { forecastOrganisation } from "../../src/monitor/index";
import { buildLedger, type LedgerSpec, paymentHistory } from "./factory";

/** Deterministic noise in [-amp, amp]. */
function noise(i: number, amp: number): number {
  const x = Math.sin(i * 3.17 + 0.5) * 10_000;
  return Math.round((x - Math.floor(x) - 0.5) * 2 * amp);
}

const asOf = "2024-06-01";
const spec: LedgerSpec = {
  contacts: ["LATE", "EARLY", "OLD", "EUR"],
  invoices: [
    // Pays 10 days late, every time; one invoice due in 5 days still open.
    ...paymentHistory(
      "LATE",
      "2023-01-01",
      Array.from({ length: 16 }, (_, i) => 10 + noise(i, 2)),
    ),
    { contact: "LATE", issue: "2024-05-07", due: "2024-06-06", total: 1_000_00 },
    // Pays 5 days early; one invoice due in 20 days.
    ...paymentHistory(
      "EARLY",
      "2023-01-01",
      Array.from({ length: 16 }, (_, i) => -5 + noise(i + 30, 2)),
    ),
    { contact: "EARLY", issue: "2024-05-22", due: "2024-06-21", total: 2_000_00 },
    // Usually on time, but one invoice is already 150 days overdue.
    ...paymentHistory(
      "OLD",
      "2023-01-01",
      Array.from({ length: 12 }, (_, i) => noise(i + 60, 3)),
    ),
    { contact: "OLD", issue: "2023-12-04", due: "2024-01-03", total: 500_00 },
    { contact: "OLD", issue: "2024-05-20", due: "2024-06-19", total: 500_00 },
    // Another currency, never added to the base currency's figures.
    ...paymentHistory("EUR", "2023-06-01", [3, 2, 4, 1], { currency: "EUR" }),
    { contact: "EUR", issue: "2024-05-15", due: "2024-06-14", total: 700_00, currency: "EUR" },
  ],
};

describe("cash-in forecast", () => {
  const forecast = forecastOrganisation(buildLedger(spec), asOf);
  const gbp = forecast.find((f) => f.currency === "GBP")!;
  const inv = (customer: string, due?: string) =>
    gbp.invoices.find(
      (i) => i.customer_id === customer && (!due || spec.invoices.some((s) => s.due === due)),
    )!;

  it("gives each open invoice a payment date from its customer's own habits", () => {
    const late = gbp.invoices.find((i) => i.customer_id === "LATE")!;
    const early = gbp.invoices.find((i) => i.customer_id === "EARLY")!;
    // Due 2024-06-06, usually paid about 10 days late; due 2024-06-21, usually about 5 days early.
    expect(late.expected_date >= "2024-06-13" && late.expected_date <= "2024-06-19").toBe(true);
    expect(early.expected_date >= "2024-06-13" && early.expected_date <= "2024-06-19").toBe(true);
    expect(late.p_paid_30).toBeGreaterThan(0.9);
    expect(inv("EARLY").p_paid_30).toBeGreaterThan(0.9);
  });

  it("conditions on not being paid yet: a long-overdue invoice is expected slowly, never in the past", () => {
    const old = gbp.invoices.filter((i) => i.customer_id === "OLD");
    const stale = old.find(
      (i) => i.invoice_number === `INV-${spec.invoices.findIndex((s) => s.due === "2024-01-03")}`,
    )!;
    const fresh = old.find((i) => i !== stale)!;
    expect(stale.expected_date > asOf).toBe(true);
    expect(stale.p_paid_30).toBeLessThan(0.5);
    expect(stale.p_paid_30).toBeLessThan(fresh.p_paid_30);
    for (const i of [...gbp.invoices]) {
      expect(i.expected_date > asOf).toBe(true);
      expect(i.p_paid_30).toBeGreaterThanOrEqual(0);
      expect(i.p_paid_30).toBeLessThanOrEqual(i.p_paid_60);
      expect(i.p_paid_60).toBeLessThanOrEqual(i.p_paid_90);
      expect(i.p_paid_90).toBeLessThanOrEqual(1);
    }
  });

  it("adds up per week for 13 weeks, per currency, with a 10-90% band", () => {
    expect(forecast.map((f) => f.currency)).toEqual(["GBP", "EUR"]);
    expect(gbp.weeks).toHaveLength(13);
    gbp.weeks.forEach((w, k) => {
      expect(w.week_start).toBe(addDays(asOf, 1 + 7 * k));
      expect(w.p10).toBeLessThanOrEqual(w.p90);
      expect(w.expected).toBeGreaterThanOrEqual(0);
    });
    const due = 1_000_00 + 2_000_00 + 500_00 + 500_00;
    const expected = gbp.weeks.reduce((a, w) => a + w.expected, 0);
    expect(expected).toBeLessThanOrEqual(due);
    // Everything but the stale invoice is expected well inside 13 weeks.
    expect(expected).toBeGreaterThan(3_400_00);
    const eur = forecast.find((f) => f.currency === "EUR")!;
    expect(eur.invoices.map((i) => i.customer_id)).toEqual(["EUR"]);
    expect(eur.weeks.reduce((a, w) => a + w.expected, 0)).toBeLessThanOrEqual(700_00);
  });

  it("is deterministic", () => {
    expect(forecastOrganisation(buildLedger(spec), asOf)).toEqual(forecast);
  });

  it("forecasts an organisation with nothing open as zero weeks in its base currency", () => {
    const [f] = forecastOrganisation(
      buildLedger({ contacts: ["A"], invoices: paymentHistory("A", "2023-01-01", [1, 2]) }),
      asOf,
    );
    expect(f!.currency).toBe("GBP");
    expect(f!.invoices).toEqual([]);
    expect(f!.weeks.every((w) => w.expected === 0 && w.p10 === 0 && w.p90 === 0)).toBe(true);
  });
});
