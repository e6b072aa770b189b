/**
 * Score 0-100 (higher is healthier), grade and reasons.
 *
 * score = 100 - the points each fact takes off (clamped to 0..100, rounded):
 * - late risk:        50 x late_probability
 * - how late:         0.5 point per day the last (up to) 5 invoices were paid late on average, at most 15
 * - overdue now:      2 + 1 point per 5 days of the oldest overdue invoice, at most 25 (reporting currency);
 *                     3 more when invoices in other currencies are overdue too (5 when only those are)
 * - deterioration:    8 while the trend is deteriorating; improving gives 3 back
 * - credit limit:     (utilisation - 0.8) x 10 above 80% of the limit, 5 + 20 per 100% above the limit, at most 10
 * - part payments:    3 when at least 30% of at least 3 paid invoices were paid in instalments
 *
 * Grades are bands of expected lateness (issue 18), ordered by outcome:
 * - A 95-100: about 1 invoice in 10 or fewer expected late (late_probability up to ~0.1), nothing overdue;
 * - B 72-94:  late risk up to ~0.55, or a little overdue;
 * - C 58-71:  more often late than not (~0.55-0.8), paid days rather than weeks late;
 * - D 35-57:  usually late, or weeks overdue now;
 * - E 0-34:   severe on both counts: late_probability at least 0.8 with the last 5 invoices paid at least
 *             10 days late on average, AND an invoice at least 10 days overdue now. Such a customer's score is
 *             capped at 34; any other customer scoring below 35 is graded D.
 * The thresholds were set on the shared IBM ledger's cut-offs (observed late share of each grade's next invoices
 * rises A to E: bench/monitor-eval.ts (d)) and checked on the demo organisation (no grade above 40%).
 *
 * Reasons: the facts that took off (or gave back) the most points, largest first, at most MAX_REASONS, each in
 * plain words with the numbers behind it. A new customer always gets the reason saying the prior was used.
 * Comparisons with the customer's own past come from the trend alone, so the words never disagree with it.
 */
import { formatMoney } from "../format";
import type { Grade } from "../model/monitor";
import type { CustomerFeatures } from "./features";
import type { LatePrediction, OrgPrior } from "./predict";
import type { TrendResult } from "./trend-types";

export const GRADE_BANDS: readonly { grade: Grade; min: number }[] = [
  { grade: "A", min: 95 },
  { grade: "B", min: 72 },
  { grade: "C", min: 58 },
  { grade: "D", min: 35 },
  { grade: "E", min: 0 },
];

/** E needs both: severe predicted lateness and severe exposure now (see the module comment). */
export const SEVERE = { lateProbability: 0.8, recentDaysLate: 10, overdueDays: 10 } as const;

export const MAX_REASONS = 3;
const RECENT = 5;

/** The grade of a score; `severe` false (lateness and exposure not both severe) keeps it at D at worst. */
export function gradeFor(score: number, severe = true): Grade {
  for (const b of GRADE_BANDS) if (score >= b.min) return b.grade === "E" && !severe ? "D" : b.grade;
  return severe ? "E" : "D";
}

export interface ScoreFactor {
  key: string;
  /** Points taken off the score (negative: given back). */
  points: number;
  reason: string;
}

export interface ScoreResult {
  score: number;
  grade: Grade;
  factors: ScoreFactor[];
  reasons: string[];
  /** Lateness and exposure both severe: the only customers who can be graded E. */
  severe: boolean;
}

/**
 * "£4,300.00": money in reasons, through the one formatter (src/format.ts). Reasons are stored text with no
 * organisation at hand, so they use the default locale (en-GB).
 */
export function formatAmount(minor: number, currency: string): string {
  return formatMoney({ minor, currency });
}

const pct = (x: number): string => `${Math.round(x * 100)}%`;
/** A probability in words: never "100%" or "0%", which would claim a certainty the model does not have. */
const chance = (p: number): string => (p >= 0.995 ? "over 99%" : p < 0.005 ? "under 1%" : pct(p));
const days = (x: number): string => {
  const r = Math.round(Math.abs(x));
  return `${r} day${r === 1 ? "" : "s"}`;
};
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

/** Scores one customer from its features, late-payment prediction and trend. */
export function scoreCustomer(
  f: CustomerFeatures,
  prediction: LatePrediction,
  trend: TrendResult,
  prior: OrgPrior,
): ScoreResult {
  const factors: ScoreFactor[] = [];
  const obs = f.observations;
  const p = prediction.probability;

  // Late risk.
  if (prediction.source === "prior") {
    factors.push({
      key: "new_customer",
      points: 50 * p,
      reason: `new customer with no payment history yet: given the organisation's late rate of ${chance(prior.lateRate)}`,
    });
  } else {
    const recent = obs.slice(-10);
    const lateRecent = recent.filter((o) => o.censored || o.daysBeyondTerms > 0).length;
    factors.push({
      key: "late_risk",
      points: 50 * p,
      reason: `${chance(p)} chance the next invoice is paid late: ${lateRecent} of the last ${plural(recent.length, "invoice")} paid late or still overdue`,
    });
  }

  // How late, recently (the comparison with the customer's own past is the trend's, below).
  let mRecent = 0;
  if (obs.length > 0) {
    const recent = obs.slice(-RECENT);
    mRecent = mean(recent.map((o) => o.daysBeyondTerms));
    const open = recent.filter((o) => o.censored).length;
    const points = Math.min(15, Math.max(0, mRecent * 0.5));
    const what =
      mRecent > 0.5
        ? `${days(mRecent)} late on average`
        : mRecent < -0.5
          ? `${days(mRecent)} early on average`
          : "on time on average";
    let text = `paid the last ${plural(recent.length, "invoice")} ${what}`;
    if (trend.trend === "stable" && trend.baselineDays !== null && trend.recentDays != null) {
      text += `, in line with its usual ${signedDays(trend.baselineDays)}`;
    }
    if (open > 0) text += ` (${open} still open, counted at the days overdue so far)`;
    factors.push({ key: "days_late", points, reason: text });
  }

  // Overdue now (other currencies are named beside, never added).
  const otherOverdue = f.otherCurrencies
    .filter((e) => e.overdueCount > 0)
    .map((e) => `${plural(e.overdueCount, "invoice")}, ${formatAmount(e.overdueMinor, e.currency)}`);
  if (f.overdueCount > 0) {
    const also = otherOverdue.length > 0 ? `; also overdue: ${otherOverdue.join("; ")}` : "";
    factors.push({
      key: "overdue",
      points: Math.min(25, 2 + f.oldestOverdueDays / 5) + (otherOverdue.length > 0 ? 3 : 0),
      reason: `${plural(f.overdueCount, "invoice")} overdue, ${formatAmount(f.overdueMinor, f.currency)}, oldest ${days(f.oldestOverdueDays)}${also}`,
    });
  } else if (otherOverdue.length > 0) {
    factors.push({
      key: "overdue",
      points: 5,
      reason: `overdue in other currencies: ${otherOverdue.join("; ")}`,
    });
  }

  // Trend: wording, change and dates all from the trend's own numbers.
  if ((trend.trend === "deteriorating" || trend.trend === "improving") && trend.changeDays !== null) {
    const worse = trend.trend === "deteriorating";
    const n = trend.recentObservations ?? trend.episodeObservations;
    const against =
      trend.baselineObservations !== undefined
        ? ` (${plural(trend.baselineObservations, "invoice")} before)`
        : "";
    factors.push({
      key: trend.trend,
      points: worse ? 8 : -3,
      reason: `paying ${days(trend.changeDays)} ${worse ? "later" : "sooner"} than its usual ${signedDays(trend.baselineDays ?? 0)}${against} over the last ${plural(n, "invoice")}, since invoices due ${trend.startedOn}`,
    });
  }

  // Credit limit.
  if (f.creditUtilisation !== null && f.creditLimitMinor !== null && f.creditUtilisation > 0.8) {
    const u = f.creditUtilisation;
    const points = u > 1 ? Math.min(10, 5 + (u - 1) * 20) : (u - 0.8) * 10;
    factors.push({
      key: "credit_limit",
      points,
      reason: `owes ${formatAmount(f.outstandingMinor, f.currency)}, ${pct(u)} of its ${formatAmount(f.creditLimitMinor, f.currency)} credit limit`,
    });
  }

  // Part payments.
  const paidInvoices = f.paidWithPaymentCount;
  if (f.partialPaymentShare !== null && paidInvoices >= 3 && f.partialPaymentShare >= 0.3) {
    factors.push({
      key: "part_payments",
      points: 3,
      reason: `pays in instalments: ${Math.round(f.partialPaymentShare * paidInvoices)} of ${paidInvoices} paid invoices paid in parts or part-paid`,
    });
  }

  const total = factors.reduce((s, x) => s + x.points, 0);
  const score = Math.max(0, Math.min(100, Math.round(100 - total)));
  const severe =
    p >= SEVERE.lateProbability &&
    mRecent >= SEVERE.recentDaysLate &&
    f.overdueCount > 0 &&
    f.oldestOverdueDays >= SEVERE.overdueDays;
  const ranked = [...factors].sort(
    (a, b) => Math.abs(b.points) - Math.abs(a.points) || (a.key < b.key ? -1 : 1),
  );
  const chosen = ranked
    .filter((x) => x.key === "new_customer" || Math.abs(x.points) >= 1)
    .slice(0, MAX_REASONS);
  if (chosen.length === 0) chosen.push(...ranked.slice(0, 1));
  // Severe lateness and exposure together put the customer in E (score capped at 34).
  const final = severe ? Math.min(score, GRADE_BANDS[3]!.min - 1) : score;
  return {
    score: final,
    grade: gradeFor(final, severe),
    factors,
    reasons: chosen.map((x) => x.reason),
    severe,
  };
}

function signedDays(x: number): string {
  if (Math.round(x) === 0) return "on-time payment";
  return `${days(x)} ${x > 0 ? "late" : "early"}`;
}

function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
}

/** Points a broken promise to pay takes off the score, and the most all of them together can take. */
export const BROKEN_PROMISE_PENALTY = 10;
export const BROKEN_PROMISE_MAX_PENALTY = 25;

/**
 * A customer who promised (on the customers' page) to pay by a date and did not is a worse risk than the
 * ledger alone shows: each recent broken promise lowers the score, the grade follows, and the reason leads.
 */
export function applyBrokenPromises<T extends { score: number; grade: Grade; reasons: string[] }>(
  result: T,
  promises: readonly string[],
): T {
  if (promises.length === 0) return result;
  const penalty = Math.min(BROKEN_PROMISE_MAX_PENALTY, BROKEN_PROMISE_PENALTY * promises.length);
  const score = Math.max(0, result.score - penalty);
  return {
    ...result,
    score,
    // A broken promise lowers the grade, but E still needs severe lateness and exposure (an E stays E).
    grade: gradeFor(score, result.grade === "E"),
    reasons: [
      `Broke ${promises.length === 1 ? "a promise" : `${promises.length} promises`} to pay (${promises.join(", ")}): -${penalty} points`,
      ...result.reasons,
    ],
  };
}
