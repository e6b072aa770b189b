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
 * Robust baseline of `values` (reordered in place): median, and MAD-based SD shrunk toward the organisation's
 * pooled within-customer SD with `sdPriorWeight` pseudo-observations, never below `minSdDays`. The detectors
 * use SortedRange, which gives exactly this without sorting each window afresh.
 */
export function robustStats(values: number[], orgSd: number, o: TrendOptions): Baseline {
  sortNumbers(values);
  return sortedStats(values, values.length, orgSd, o);
}

/**
 * robustStats of the `m` values `s[0..m)`, already ascending (left unchanged). The absolute deviations from the
 * median are taken in ascending order by walking outward from the median (below it, `med - x` is exactly
 * `|x - med|`), so nothing is sorted twice.
 */
function sortedStats(s: ArrayLike<number>, m: number, orgSd: number, o: TrendOptions): Baseline {
  // No values: what robustStats gives an empty list.
  if (m === 0) return { mean: Number.NaN, sd: Number.NaN };
  const med = m % 2 ? s[(m - 1) >> 1]! : (s[m / 2 - 1]! + s[m / 2]!) / 2;
  // The deviation ranks the MAD needs: k (odd m), or k - 1 and k (even m).
  const k = m >> 1;
  const want = m % 2 ? (m - 1) >> 1 : k;
  let right = 0;
  while (right < m && s[right]! < med) right++;
  let left = right - 1;
  let prev = 0;
  let cur = 0;
  for (let r = 0; r <= want; r++) {
    prev = cur;
    const dl = left >= 0 ? Math.abs(s[left]! - med) : Number.POSITIVE_INFINITY;
    const dr = right < m ? Math.abs(s[right]! - med) : Number.POSITIVE_INFINITY;
    if (dl <= dr) {
      cur = dl;
      left--;
    } else {
      cur = dr;
      right++;
    }
  }
  const mad = m % 2 ? cur : (prev + cur) / 2;
  const own = 1.4826 * mad;
  const orgVar = Math.max(o.minSdDays, orgSd) ** 2;
  const v = (o.sdPriorWeight * orgVar + (m - 1) * own * own) / (o.sdPriorWeight + m - 1);
  return { mean: med, sd: Math.max(o.minSdDays, Math.sqrt(v)) };
}

/**
 * The values of the points i in a range [lo, hi) with `use[i]`, kept in ascending order as the range moves (the
 * trend detectors judge windows that slide one observation at a time): moving adds and removes only the points
 * that enter or leave, and `stats` is robustStats of those values without sorting them again.
 */
export class SortedRange {
  /** The range's values, ascending, in sorted[0..count). Plain arrays: small typed arrays cost more to allocate. */
  private readonly sorted: number[] = [];
  /** How many values the range holds. */
  count = 0;
  private lo = 0;
  private hi = 0;

  constructor(
    private readonly values: readonly number[],
    private readonly use: readonly boolean[],
  ) {}

  moveTo(lo: number, hi: number): void {
    if (hi < lo) hi = lo;
    const changes = Math.abs(lo - this.lo) + Math.abs(hi - this.hi);
    if (lo >= this.hi || hi <= this.lo || changes > hi - lo) {
      this.count = 0;
      for (let i = lo; i < hi; i++) if (this.use[i]) this.insert(this.values[i]!);
    } else {
      for (let i = this.lo; i < lo; i++) if (this.use[i]) this.remove(this.values[i]!);
      for (let i = lo; i < this.lo; i++) if (this.use[i]) this.insert(this.values[i]!);
      for (let i = hi; i < this.hi; i++) if (this.use[i]) this.remove(this.values[i]!);
      for (let i = this.hi; i < hi; i++) if (this.use[i]) this.insert(this.values[i]!);
    }
    this.lo = lo;
    this.hi = hi;
  }

  /** robustStats of the range's values. */
  stats(orgSd: number, o: TrendOptions): Baseline {
    return sortedStats(this.sorted, this.count, orgSd, o);
  }

  private insert(x: number): void {
    const s = this.sorted;
    let j = this.count++;
    while (j > 0 && s[j - 1]! > x) {
      s[j] = s[j - 1]!;
      j--;
    }
    s[j] = x;
  }

  private remove(x: number): void {
    const s = this.sorted;
    let j = 0;
    while (j < this.count && s[j] !== x) j++;
    if (j === this.count) return;
    for (; j < this.count - 1; j++) s[j] = s[j + 1]!;
    this.count--;
  }
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
