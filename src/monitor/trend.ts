/**
 * Deterioration detection against the customer's own baseline.
 *
 * Input: the customer's observations of signed days beyond terms in due-date order (features.ts), censored open
 * overdue invoices included at their lower bound ("at least N days late").
 *
 * Default method ("cusum", see robustCusum): two one-sided CUSUMs on residuals against the customer's own robust
 * baseline (median of the up to BASELINE_WINDOW observations before the run; SD from the MAD, shrunk toward the
 * organisation's pooled within-customer SD, floored), k = 0.7 SD, h = 5 SD, residuals capped at +-3 SD, plus a
 * minimum effect of 7 days on the run's mean. Censored open invoices (trendSeries) enter at their expectation
 * given "at least N days" under the baseline. k and h were tuned on drift seeds 2000-2003 (bench seeds 1000-1003
 * are reported) for <= 5% false alarms on unshifted customers.
 * Alternative method ("glr"): for each window of the last m observations, the shift of the window's mean against
 * the baseline just before it, as a z with the baseline's own uncertainty (the previous default).
 * The episode starts on the due date of the first invoice of the run (`startedOn`); the change in days is the
 * mean of the run's observations minus the baseline. One alert per episode: see
 * `isNewEpisode` / `detectEpisodes` (trend-episodes.ts).
 */
import type { InvoiceAsOf } from "./as-of";
import { robustCusum } from "./trend-cusum";
import { trendState } from "./trend-state";
import { dueDayOf, stableAgainst } from "./trend-stats";
import { DEFAULT_TREND_OPTIONS, type TrendOptions, type TrendPoint, type TrendResult } from "./trend-types";

/**
 * The series trend detection reads, from the customer's invoices as they stood on `asOfDay`, in due-date order:
 * every settled invoice at its exact signed days beyond terms (those cancelled by credit notes alone left out),
 * and every open invoice as a censored value "at least asOfDay - due day" (negative while not yet due). Keeping
 * the open, not-yet-due invoices beside the ones already paid early keeps the latest values unbiased: leaving
 * them out would only ever add early payers. The detector replaces each censored value by its expectation given
 * the bound under the customer's own baseline, so an open invoice not yet due says almost nothing and one
 * 10 days overdue from a customer who pays 5 days early says a lot.
 */
export function trendSeries(invoices: readonly InvoiceAsOf[], asOfDay: number): TrendPoint[] {
  const out: (TrendPoint & { dueDay: number; order: number })[] = [];
  for (const inv of invoices) {
    if (inv.settledDay !== null) {
      if (inv.creditedOnly) continue;
      out.push({
        dueDate: inv.dueDate,
        dueDay: inv.dueDay,
        daysBeyondTerms: inv.settledDay - inv.dueDay,
        censored: false,
        order: inv.settledDay,
      });
    } else if (!inv.settledUndated && inv.dueMinor > 0) {
      out.push({
        dueDate: inv.dueDate,
        dueDay: inv.dueDay,
        daysBeyondTerms: asOfDay - inv.dueDay,
        censored: true,
        order: Number.MAX_SAFE_INTEGER,
      });
    }
  }
  out.sort((a, b) => a.dueDay - b.dueDay || a.order - b.order);
  return out;
}

/**
 * Trend of one customer's series (see the module comment). `orgSdDays`: the organisation's pooled SD; `asOfDay`:
 * the day judged (default: the day after the last due date in the series).
 */
export function detectTrend(
  series: readonly TrendPoint[],
  orgSdDays: number,
  options: TrendOptions = DEFAULT_TREND_OPTIONS,
  asOfDay?: number,
): TrendResult {
  const o = options;
  const n = series.length;
  const none: TrendResult = {
    trend: "insufficient_data",
    changeDays: null,
    startedOn: null,
    baselineDays: null,
    sdDays: null,
    episodeObservations: 0,
  };
  if (n < o.warmup + 1) return none;
  if (o.method === "cusum") {
    const c = robustCusum(series, orgSdDays, o);
    if (!o.state) return c.result;
    const day = asOfDay ?? dueDayOf(series[n - 1]!) + 1;
    return trendState(series, orgSdDays, o, day, c);
  }

  // Prefix sums for O(1) window mean / variance.
  const ps = new Float64Array(n + 1);
  const ps2 = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) {
    const x = series[i]!.daysBeyondTerms;
    ps[i + 1] = ps[i]! + x;
    ps2[i + 1] = ps2[i]! + x * x;
  }
  const orgVar = Math.max(o.minSdDays, orgSdDays) ** 2;
  const baseline = (end: number): { mean: number; sd: number } => {
    const start = Math.max(0, end - o.baselineWindow);
    const m = end - start;
    const mean = (ps[end]! - ps[start]!) / m;
    const ss = Math.max(0, ps2[end]! - ps2[start]! - m * mean * mean);
    const v = (o.sdPriorWeight * orgVar + ss) / (o.sdPriorWeight + m - 1);
    return { mean, sd: Math.max(o.minSdDays, Math.sqrt(v)) };
  };
  return glr(series, baseline, o);
}

function glr(
  series: readonly TrendPoint[],
  baseline: (end: number) => { mean: number; sd: number },
  o: TrendOptions,
): TrendResult {
  const n = series.length;
  let best: { z: number; m: number; change: number; mean: number; sd: number } | null = null;
  const latest = baseline(n);
  for (let m = o.minEpisodeObs; m <= Math.min(o.maxWindow, n - o.warmup); m++) {
    const nb = Math.min(o.baselineWindow, n - m);
    const b = baseline(n - m);
    // Each observation counts at most Z_CAP SDs from the baseline: one extreme invoice cannot alarm alone.
    let sum = 0;
    for (let i = n - m; i < n; i++) {
      sum += Math.max(-o.zCap * b.sd, Math.min(o.zCap * b.sd, series[i]!.daysBeyondTerms - b.mean));
    }
    const change = sum / m;
    if (Math.abs(change) < o.minEffectDays) continue;
    const z = change / (b.sd * Math.sqrt(1 / m + 1 / nb));
    if (Math.abs(z) < o.zThreshold) continue;
    if (!best || Math.abs(z) > Math.abs(best.z)) best = { z, m, change, mean: b.mean, sd: b.sd };
  }
  if (!best) return stableAgainst(latest);
  return {
    trend: best.z > 0 ? "deteriorating" : "improving",
    changeDays: Math.round(best.change * 10) / 10,
    startedOn: series[n - best.m]!.dueDate,
    baselineDays: Math.round(best.mean * 10) / 10,
    sdDays: Math.round(best.sd * 10) / 10,
    episodeObservations: best.m,
  };
}

/**
 * `pooledWithinSd` of the customers' observations (features.ts `observationsOf`), worked out from their invoices
 * without building the observations: the settled ones (a settlement date, not by credit notes alone) are exactly
 * the observations that are not censored. Days are whole numbers, so the sums are exact in any order and the
 * result is the same to the bit.
 */
export function pooledSettledSd(invoicesByCustomer: Iterable<readonly InvoiceAsOf[]>, fallback = 7): number {
  let ss = 0;
  let df = 0;
  for (const invoices of invoicesByCustomer) {
    let n = 0;
    let sum = 0;
    let sum2 = 0;
    for (const inv of invoices) {
      if (inv.settledDay === null || inv.settledOn === null || inv.creditedOnly) continue;
      const x = inv.settledDay - inv.dueDay;
      n++;
      sum += x;
      sum2 += x * x;
    }
    if (n < 2) continue;
    ss += Math.max(0, sum2 - (sum * sum) / n);
    df += n - 1;
  }
  return df >= 10 ? Math.sqrt(ss / df) : fallback;
}

/** Pooled within-customer SD of days beyond terms over settled observations (default 7 days with no data). */
export function pooledWithinSd(seriesByCustomer: Iterable<readonly TrendPoint[]>, fallback = 7): number {
  let ss = 0;
  let df = 0;
  for (const series of seriesByCustomer) {
    let n = 0;
    let sum = 0;
    let sum2 = 0;
    for (const p of series) {
      if (p.censored) continue;
      n++;
      sum += p.daysBeyondTerms;
      sum2 += p.daysBeyondTerms * p.daysBeyondTerms;
    }
    if (n < 2) continue;
    ss += Math.max(0, sum2 - (sum * sum) / n);
    df += n - 1;
  }
  return df >= 10 ? Math.sqrt(ss / df) : fallback;
}
