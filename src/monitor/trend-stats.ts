/**
 * The statistics the trend detector is built from: robust baselines (median and MAD-based SD shrunk toward the
 * organisation's), the expectation of a censored value, and small sorted-array helpers. Pure.
 */
import { dayNumber } from "../days";
import type { TrendOptions, TrendPoint, TrendResult } from "./trend-types";

export interface Baseline {
  mean: number;
  sd: number;
}

/** A stable verdict, reporting the baseline it was judged against (to a tenth of a day). */
export function stableAgainst(b: Baseline): TrendResult {
  return {
    trend: "stable",
    changeDays: null,
    startedOn: null,
    baselineDays: Math.round(b.mean * 10) / 10,
    sdDays: Math.round(b.sd * 10) / 10,
    episodeObservations: 0,
  };
}

/**
 * Robust baseline of series[start..end): median, and MAD-based SD shrunk toward the organisation's pooled
 * within-customer SD with `sdPriorWeight` pseudo-observations, never below `minSdDays`.
 */
export function robustBaseline(
  series: readonly TrendPoint[],
  end: number,
  orgSd: number,
  o: TrendOptions,
  buf: number[],
): Baseline {
  buf.length = 0;
  for (let i = end - 1; i >= 0 && buf.length < o.baselineWindow; i--) {
    const p = series[i]!;
    if (!(o.baselineSettledOnly && p.censored)) buf.push(p.daysBeyondTerms);
  }
  if (buf.length === 0) return { mean: 0, sd: Math.max(o.minSdDays, orgSd) };
  return robustStats(buf, orgSd, o);
}

/** Median and MAD-based SD (shrunk toward the organisation's, floored) of `values` (reordered in place). */
export function robustStats(values: number[], orgSd: number, o: TrendOptions): Baseline {
  const m = values.length;
  sortNumbers(values);
  const med = m % 2 ? values[(m - 1) >> 1]! : (values[m / 2 - 1]! + values[m / 2]!) / 2;
  for (let i = 0; i < m; i++) values[i] = Math.abs(values[i]! - med);
  sortNumbers(values);
  const mad = m % 2 ? values[(m - 1) >> 1]! : (values[m / 2 - 1]! + values[m / 2]!) / 2;
  const own = 1.4826 * mad;
  const orgVar = Math.max(o.minSdDays, orgSd) ** 2;
  const v = (o.sdPriorWeight * orgVar + (m - 1) * own * own) / (o.sdPriorWeight + m - 1);
  return { mean: med, sd: Math.max(o.minSdDays, Math.sqrt(v)) };
}

/** Sorts a short list of numbers ascending in place (insertion sort: the same order as sort((a, b) => a - b)). */
function sortNumbers(xs: number[]): void {
  for (let i = 1; i < xs.length; i++) {
    const x = xs[i]!;
    let j = i - 1;
    while (j >= 0 && xs[j]! > x) {
      xs[j + 1] = xs[j]!;
      j--;
    }
    xs[j + 1] = x;
  }
}

/** E[X | X >= lower] for X ~ N(mean, sd): what an open invoice "at least `lower` days late" is expected to be. */
export function censoredExpectation(lower: number, mean: number, sd: number): number {
  const a = (lower - mean) / sd;
  if (a < -6) return mean;
  // Inverse Mills ratio phi(a) / (1 - Phi(a)); for large a it tends to a (+ 1/a).
  const tail = 0.5 * erfc(a / Math.SQRT2);
  const lambda = tail > 1e-12 ? Math.exp(-0.5 * a * a) / Math.sqrt(2 * Math.PI) / tail : a + 1 / a;
  return Math.max(lower, mean + sd * lambda);
}

/** Complementary error function (Numerical Recipes' erfcc, |error| < 1.2e-7). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

export const dueDayOf = (p: TrendPoint): number => p.dueDay ?? dayNumber(p.dueDate);

/** First index i in [0, end) with xs[i] >= x (end when none); xs ascending. */
export function lowerBound(xs: readonly number[], x: number, end: number): number {
  let lo = 0;
  let hi = end;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
