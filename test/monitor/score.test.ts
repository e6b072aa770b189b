import { describe, expect, it } from "vitest";
import { addDays } from "../../src/model";
import {
  applyBrokenPromises,
  assessOrganisation,
  detectEpisodes,
  detectTrend,
  formatAmount,
  gradeFor,
  isNewEpisode,
  scoreOrganisation,
  type TrendPoint,
} from "../../src/monitor/index";
import { buildLedger, type LedgerSpec, paymentHistory } from "./factory";

/** Deterministic noise in [-amp, amp]. */
function noise(i: number, amp: number): number {
  const x = Math.sin(i * 12.9898 + 78.233) * 43758.5453;
  return Math.round((x - Math.floor(x) - 0.5) * 2 * amp);
}

const series = (values: readonly number[]): TrendPoint[] =>
  values.map((v, i) => ({ dueDate: addDays("2024-01-01", i * 30), daysBeyondTerms: v, censored: false }));

/** A mixed organisation: steady early payers, steady late payers, so the model has something to learn from. */
function background(): LedgerSpec["invoices"] {
  const out: LedgerSpec["invoices"] = [];
  for (let c = 0; c < 12; c++) {
    const mean = c < 6 ? -6 : 9;
    out.push(
      ...paymentHistory(
        `BG${c}`,
        "2023-01-05",
        Array.from({ length: 18 }, (_, i) => mean + noise(c * 100 + i, 6)),
      ),
    );
  }
  return out;
}
const bgContacts = Array.from({ length: 12 }, (_, c) => `BG${c}`);

describe("late probability", () => {
  const spec: LedgerSpec = {
    contacts: [...bgContacts, "NEW", "ONE_LATE", "EARLY", "LATE"],
    invoices: [
      ...background(),
      ...paymentHistory("ONE_LATE", "2024-03-01", [12]),
      ...paymentHistory(
        "EARLY",
        "2023-01-05",
        Array.from({ length: 15 }, (_, i) => -10 + noise(i, 3)),
      ),
      ...paymentHistory(
        "LATE",
        "2023-01-05",
        Array.from({ length: 15 }, (_, i) => 15 + noise(i + 50, 3)),
      ),
    ],
  };
  const asOf = "2024-07-01";
  const assessed = assessOrganisation(buildLedger(spec), asOf);
  const by = (id: string) => assessed.customers.find((c) => c.result.customer_id === id)!;

  it("gives a new customer the organisation's late rate and says so", () => {
    const n = by("NEW");
    expect(n.prediction.source).toBe("prior");
    expect(n.result.late_probability).toBeCloseTo(assessed.model.prior.lateRate, 4);
    expect(n.result.reasons[0]).toMatch(/new customer .* organisation's late rate of \d+%/);
  });

  it("fits the model on the organisation's own history and ranks late payers above early ones", () => {
    expect(assessed.model.kind).toBe("logistic");
    expect(by("LATE").result.late_probability).toBeGreaterThan(0.8);
    expect(by("EARLY").result.late_probability).toBeLessThan(0.15);
    expect(by("LATE").result.score).toBeLessThan(by("EARLY").result.score);
  });

  it("never words a probability as a certainty", () => {
    const sure = assessOrganisation(
      buildLedger({
        contacts: [...bgContacts, "VERY_LATE"],
        invoices: [
          ...background(),
          ...paymentHistory(
            "VERY_LATE",
            "2023-01-05",
            Array.from({ length: 15 }, () => 90),
          ),
        ],
      }),
      asOf,
    ).customers.find((c) => c.result.customer_id === "VERY_LATE")!;
    expect(sure.prediction.probability).toBeGreaterThanOrEqual(0.995);
    const reason = sure.result.reasons.find((r) => r.includes("chance the next invoice"));
    expect(reason).toMatch(/^over 99% chance the next invoice is paid late/);
    expect(sure.result.reasons.join(" ")).not.toMatch(/\b100% chance/);
  });

  it("shrinks a customer with one late invoice toward the organisation instead of calling it certain", () => {
    const p = by("ONE_LATE").result.late_probability;
    expect(p).toBeGreaterThan(assessed.model.prior.lateRate);
    expect(p).toBeLessThan(by("LATE").result.late_probability);
  });

  it("sorts the riskiest customers first", () => {
    const scores = assessed.customers.map((c) => c.result.score);
    expect(scores).toEqual([...scores].sort((a, b) => a - b));
  });
});

describe("reasons and grades", () => {
  it("names the overdue invoices with their real amount and age", () => {
    const spec: LedgerSpec = {
      contacts: ["A"],
      invoices: [
        ...paymentHistory("A", "2024-01-01", [0, 1, -1]),
        { contact: "A", issue: "2024-04-01", due: "2024-05-01", total: 3_000_00 },
        { contact: "A", issue: "2024-04-15", due: "2024-05-15", total: 1_300_00 },
      ],
    };
    const [s] = scoreOrganisation(buildLedger(spec), "2024-06-11");
    expect(s!.reasons).toContain("2 invoices overdue, £4,300.00, oldest 41 days");
    expect(s).toMatchObject({ outstanding: 4_300_00, overdue: 4_300_00, currency: "GBP" });
  });

  it("says how late the last invoices were, and compares with the past only through the trend", () => {
    const spec: LedgerSpec = {
      contacts: ["A"],
      invoices: paymentHistory("A", "2023-01-01", [6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 18, 18, 18, 18, 18]),
    };
    const [s] = scoreOrganisation(buildLedger(spec), "2024-06-01");
    expect(s!.reasons).toContain("paid the last 5 invoices 18 days late on average");
    expect(s!.trend).toBe("deteriorating");
    expect(s!.trend_change_days).toBe(12);
    expect(s!.reasons).toContain(
      "paying 12 days later than its usual 6 days late over the last 5 invoices, since invoices due 2023-11-27",
    );
  });

  it("never words a trend against its own direction or change (random ledgers)", () => {
    let judged = 0;
    for (let c = 0; c < 40; c++) {
      const level = noise(c, 12);
      const shift = noise(c + 500, 20);
      const values = Array.from(
        { length: 24 },
        (_, i) => level + (i >= 16 ? shift : 0) + noise(c * 50 + i, 8),
      );
      const spec: LedgerSpec = { contacts: ["A"], invoices: paymentHistory("A", "2023-01-01", values) };
      for (const asOf of ["2024-08-01", "2024-12-01", "2025-03-01"]) {
        const [s] = scoreOrganisation(buildLedger(spec), asOf);
        const text = s!.reasons.join(" | ");
        if (s!.trend === "deteriorating" || s!.trend === "improving") {
          judged++;
          const worse = s!.trend === "deteriorating";
          expect(s!.trend_change_days! * (worse ? 1 : -1)).toBeGreaterThan(0);
          expect(text).not.toMatch(worse ? /sooner|better/ : /later than its usual|worse/);
          const said = text.match(/paying (\d+) days? (later|sooner)/);
          if (said) expect(Number(said[1])).toBe(Math.round(Math.abs(s!.trend_change_days!)));
        } else {
          expect(s!.trend_change_days).toBeNull();
          expect(text).not.toMatch(/later than its usual|sooner than its usual|worse|better/);
        }
      }
    }
    expect(judged).toBeGreaterThan(5);
  });

  it.each([
    [100, "A"],
    [95, "A"],
    [94, "B"],
    [72, "B"],
    [71, "C"],
    [58, "C"],
    [57, "D"],
    [35, "D"],
    [34, "E"],
    [0, "E"],
  ])("score %i is grade %s", (score, grade) => {
    expect(gradeFor(score)).toBe(grade);
  });

  it("keeps E for customers whose lateness and exposure are both severe", () => {
    expect(gradeFor(10, false)).toBe("D");
    // Always very late, but nothing overdue now: D, not E.
    const late = Array.from({ length: 15 }, () => 40);
    const paidUp = scoreOrganisation(
      buildLedger({ contacts: ["A"], invoices: paymentHistory("A", "2023-01-01", late) }),
      "2024-06-01",
    )[0]!;
    expect(paidUp.late_probability).toBeGreaterThan(0.8);
    expect(paidUp.grade).toBe("D");
    // The same customer with an invoice 45 days overdue: E.
    const owing = scoreOrganisation(
      buildLedger({
        contacts: ["A"],
        invoices: [
          ...paymentHistory("A", "2023-01-01", late),
          { contact: "A", issue: "2024-03-01", due: "2024-04-17", total: 500_00 },
        ],
      }),
      "2024-06-01",
    )[0]!;
    expect(owing.grade).toBe("E");
    expect(owing.score).toBeLessThan(35);
  });

  it.each([
    [430_000, "GBP", "£4,300.00"],
    [5, "GBP", "£0.05"],
    [1_234_567, "JPY", "JP¥1,234,567"],
    [-250_00, "EUR", "-€250.00"],
  ])("formats %i %s as %s", (minor, currency, text) => {
    expect(formatAmount(minor, currency)).toBe(text);
  });
});

describe("trend", () => {
  const stableNoisy = Array.from({ length: 20 }, (_, i) => -3 + noise(i, 8));

  it.each([
    ["a stable noisy series", stableNoisy, "stable"],
    ["one odd invoice at the end", [...stableNoisy.slice(0, 15), 40], "stable"],
    ["a +15 day shift over the last 3 invoices", [...stableNoisy.slice(0, 15), 14, 10, 12], "deteriorating"],
    [
      "a -15 day shift over the last 4 invoices",
      [...stableNoisy.slice(0, 15), -18, -20, -16, -19],
      "improving",
    ],
    ["too little history", [1, 2, 30, 31], "insufficient_data"],
  ])("%s is %s", (_name, values, trend) => {
    expect(detectTrend(series(values), 7).trend).toBe(trend);
  });

  it("reports the shift in days and the date the episode started", () => {
    const values = [...stableNoisy.slice(0, 15), 14, 10, 12];
    const t = detectTrend(series(values), 7);
    // The change point is estimated: the first shifted invoice or the one just before it.
    expect([addDays("2024-01-01", 14 * 30), addDays("2024-01-01", 15 * 30)]).toContain(t.startedOn);
    expect(t.changeDays).toBeGreaterThanOrEqual(10);
    expect(t.changeDays).toBeLessThanOrEqual(20);
  });

  it("feeds open overdue invoices in as at-least values", () => {
    const values: TrendPoint[] = [
      ...series(stableNoisy.slice(0, 15)),
      { dueDate: "2025-03-01", daysBeyondTerms: 25, censored: true },
      { dueDate: "2025-04-01", daysBeyondTerms: 20, censored: true },
    ];
    expect(detectTrend(values, 7).trend).toBe("deteriorating");
  });

  it("judges against a baseline of paid invoices only: open ones not yet due do not drag it down", () => {
    // A customer who pays 20 days late, with three invoices still weeks from their due dates.
    const paid = Array.from({ length: 12 }, (_, i) => 20 + (i % 3) - 1);
    const values: TrendPoint[] = [
      ...series(paid),
      { dueDate: "2025-03-01", daysBeyondTerms: -5, censored: true },
      { dueDate: "2025-03-15", daysBeyondTerms: -19, censored: true },
      { dueDate: "2025-04-01", daysBeyondTerms: -36, censored: true },
    ];
    const t = detectTrend(values, 7);
    expect(t.trend).toBe("stable");
    expect(t.baselineDays).toBeCloseTo(20, 0);
  });

  it("raises one alert per episode, not one a day", () => {
    const base = Array.from({ length: 14 }, (_, i) => -2 + noise(i, 4));
    const spec: LedgerSpec = {
      contacts: ["A"],
      invoices: paymentHistory("A", "2023-01-01", [...base, 16, 14, 18, 15, 17, 16]),
    };
    const input = buildLedger(spec);
    const history: {
      asOf: string;
      trend: "deteriorating" | "stable" | "improving" | "insufficient_data";
      trend_started_on: string | null;
    }[] = [];
    for (let d = "2024-01-01"; d <= "2024-09-30"; d = addDays(d, 1)) {
      const [s] = scoreOrganisation(input, d);
      history.push({ asOf: d, trend: s!.trend, trend_started_on: s!.trend_started_on });
    }
    const daysDeteriorating = history.filter((h) => h.trend === "deteriorating").length;
    expect(daysDeteriorating).toBeGreaterThan(10);
    expect(detectEpisodes(history)).toHaveLength(1);
  });

  it.each([
    ["no previous alert", null, "deteriorating", "2024-05-01", true],
    ["stable now", null, "stable", null, false],
    [
      "same episode",
      { startedOn: "2024-05-01", alertedOn: "2024-06-10" },
      "deteriorating",
      "2024-05-01",
      false,
    ],
    [
      "same episode, start re-estimated",
      { startedOn: "2024-05-01", alertedOn: "2024-06-10" },
      "deteriorating",
      "2024-04-01",
      false,
    ],
    [
      "a later episode",
      { startedOn: "2024-05-01", alertedOn: "2024-06-10" },
      "deteriorating",
      "2024-09-01",
      true,
    ],
  ] as const)("isNewEpisode: %s", (_name, last, trend, started, expected) => {
    expect(isNewEpisode(last, { trend, trend_started_on: started })).toBe(expected);
  });
});

describe("broken promises to pay", () => {
  const base = { score: 72, grade: "B" as const, reasons: ["paid the last 5 invoices on time"] };
  it.each([
    [[], 72, "B"],
    [["INV-1 by 2026-03-01"], 62, "C"],
    [["INV-1 by 2026-03-01", "INV-2 by 2026-04-01"], 52, "D"],
    [["a", "b", "c", "d"], 47, "D"],
    [["a", "b", "c", "d", "e"], 47, "D"],
  ] as const)("%j lowers the score to %i (grade %s), and says why first", (promises, score, grade) => {
    const r = applyBrokenPromises(base, promises);
    expect(r.score).toBe(score);
    expect(r.grade).toBe(grade);
    if (promises.length) expect(r.reasons[0]).toMatch(/^Broke .*promise.* to pay/);
    else expect(r).toBe(base);
  });
});
