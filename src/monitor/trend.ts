/**
 * Deterioration detection against the customer's own baseline.
 *
 * Input: the customer's observations of signed days beyond terms in due-date order (features.ts), censored open
 * overdue invoices included at their lower bound ("at least N days late").
 *
 * Default method ("glr"): for each window of the last m observations (MIN_EPISODE_OBS <= m <= MAX_WINDOW), the
 * shift = mean(window) - mean(baseline) (each observation capped at Z_CAP SDs from the baseline), where the baseline is the up to BASELINE_WINDOW observations just
 * before the window (so an ongoing change never contaminates its own baseline), and
 * z = shift / (sd * sqrt(1/m + 1/baseline size)), sd being the baseline's SD shrunk toward the organisation's
 * pooled within-customer SD (SD_PRIOR_WEIGHT pseudo-observations), never below MIN_SD_DAYS. The window with the
 * largest |z| among those with |z| >= Z_THRESHOLD and |shift| >= MIN_EFFECT_DAYS (7 days: one odd invoice, or a
 * small drift, does not alarm) decides: `deteriorating` (shift > 0) or `improving`; none: `stable`. With fewer
 * than WARMUP + 1 observations: `insufficient_data`.
 * Alternative method ("cusum"): a self-starting two-sided CUSUM on the same standardised values, capped at
 * +-Z_CAP, reference K and decision interval H; the episode is the current run. It was measured against the
 * default in bench/monitor-eval.ts and did slightly worse on false alarms.
 * The episode starts on the due date of the first invoice of the run (`startedOn`); the change in days is the
 * mean of the run's observations minus the baseline. One alert per episode: see `isNewEpisode` / `detectEpisodes`.
 */
import type { IsoDate } from "../model";
import type { Trend } from "./types";

export interface TrendOptions {
  /** "glr": windowed likelihood-ratio test of the last m observations against the baseline; "cusum". */
  method: "glr" | "cusum";
  /** GLR: largest window (observations) tested. */
  maxWindow: number;
  /** GLR: z the shift must reach, the baseline's own uncertainty included. */
  zThreshold: number;
  warmup: number;
  baselineWindow: number;
  minEffectDays: number;
  /** Reference value in SDs (half the shift, in SDs, the chart is tuned for). */
  k: number;
  /** Decision interval in SDs. */
  h: number;
  zCap: number;
  minEpisodeObs: number;
  minSdDays: number;
  sdPriorWeight: number;
}

export const DEFAULT_TREND_OPTIONS: TrendOptions = {
  method: "glr",
  maxWindow: 6,
  zThreshold: 3,
  warmup: 5,
  baselineWindow: 10,
  minEffectDays: 7,
  k: 0.5,
  h: 4,
  zCap: 3,
  minEpisodeObs: 2,
  minSdDays: 3,
  sdPriorWeight: 5,
};

export interface TrendPoint {
  dueDate: IsoDate;
  daysBeyondTerms: number;
  censored: boolean;
}

export interface TrendResult {
  trend: Trend;
  /** Mean shift of the episode against the baseline, in days (null unless deteriorating or improving). */
  changeDays: number | null;
  /** Due date of the first invoice of the episode (null unless deteriorating or improving). */
  startedOn: IsoDate | null;
  /** Baseline mean days beyond terms the latest observations are judged against. */
  baselineDays: number | null;
  sdDays: number | null;
  /** Observations in the episode. */
  episodeObservations: number;
}

/** Trend of one customer's series (see the module comment). `orgSdDays`: the organisation's pooled SD. */
export function detectTrend(
  series: readonly TrendPoint[],
  orgSdDays: number,
  options: TrendOptions = DEFAULT_TREND_OPTIONS,
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

  if (o.method === "glr") return glr(series, baseline, o);

  let up = 0;
  let down = 0;
  let upStart = -1;
  let downStart = -1;
  let ref = baseline(o.warmup);
  for (let i = o.warmup; i < n; i++) {
    const refEnd = Math.min(upStart < 0 ? i : upStart, downStart < 0 ? i : downStart);
    ref = baseline(Math.max(o.warmup, refEnd));
    const z = Math.max(-o.zCap, Math.min(o.zCap, (series[i]!.daysBeyondTerms - ref.mean) / ref.sd));
    const nextUp = Math.max(0, up + z - o.k);
    const nextDown = Math.max(0, down - z - o.k);
    if (nextUp > 0 && up === 0) upStart = i;
    if (nextUp === 0) upStart = -1;
    if (nextDown > 0 && down === 0) downStart = i;
    if (nextDown === 0) downStart = -1;
    up = nextUp;
    down = nextDown;
  }

  const episode = (start: number, sign: 1 | -1): TrendResult | null => {
    if (start < 0) return null;
    const count = n - start;
    if (count < o.minEpisodeObs) return null;
    const b = baseline(Math.max(o.warmup, start));
    const change = (ps[n]! - ps[start]!) / count - b.mean;
    if (change * sign < o.minEffectDays) return null;
    return {
      trend: sign > 0 ? "deteriorating" : "improving",
      changeDays: Math.round(change * 10) / 10,
      startedOn: series[start]!.dueDate,
      baselineDays: Math.round(b.mean * 10) / 10,
      sdDays: Math.round(b.sd * 10) / 10,
      episodeObservations: count,
    };
  };
  const worse = up > o.h ? episode(upStart, 1) : null;
  if (worse) return worse;
  const better = down > o.h ? episode(downStart, -1) : null;
  if (better) return better;
  return {
    trend: "stable",
    changeDays: null,
    startedOn: null,
    baselineDays: Math.round(ref.mean * 10) / 10,
    sdDays: Math.round(ref.sd * 10) / 10,
    episodeObservations: 0,
  };
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
  if (!best) {
    return {
      trend: "stable",
      changeDays: null,
      startedOn: null,
      baselineDays: Math.round(latest.mean * 10) / 10,
      sdDays: Math.round(latest.sd * 10) / 10,
      episodeObservations: 0,
    };
  }
  return {
    trend: best.z > 0 ? "deteriorating" : "improving",
    changeDays: Math.round(best.change * 10) / 10,
    startedOn: series[n - best.m]!.dueDate,
    baselineDays: Math.round(best.mean * 10) / 10,
    sdDays: Math.round(best.sd * 10) / 10,
    episodeObservations: best.m,
  };
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

/** The part of a stored result episode detection needs (a `CustomerScore` fits). */
export interface TrendSnapshot {
  trend: Trend;
  trend_started_on: IsoDate | null;
}

/** An alert already raised for a customer. */
export interface Episode {
  /** Start of the episode as reported when the alert was raised. */
  startedOn: IsoDate | null;
  /** asOf of the result that raised the alert. */
  alertedOn: IsoDate;
}

/**
 * True when `current` should raise a deterioration alert, given the last alert raised for this customer
 * (null if none): it is deteriorating, and its episode started after that alert was raised. A continuing episode
 * keeps starting before its own alert date, even when its estimated start moves by an invoice as evidence
 * accumulates, so it is never alerted twice; a new episode needs invoices due after the last alert.
 */
export function isNewEpisode(lastAlert: Episode | null | undefined, current: TrendSnapshot): boolean {
  if (current.trend !== "deteriorating") return false;
  if (!lastAlert) return true;
  if (current.trend_started_on === lastAlert.startedOn) return false;
  return (current.trend_started_on ?? "") > lastAlert.alertedOn;
}

/** Alerts to raise over a customer's results in time order: one per episode (see `isNewEpisode`). */
export function detectEpisodes(history: readonly (TrendSnapshot & { asOf: IsoDate })[]): Episode[] {
  const out: Episode[] = [];
  let last: Episode | null = null;
  for (const h of history) {
    if (isNewEpisode(last, h)) {
      last = { startedOn: h.trend_started_on, alertedOn: h.asOf };
      out.push(last);
    }
  }
  return out;
}
