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
 * mean of the run's observations minus the baseline. One alert per episode: see `isNewEpisode` / `detectEpisodes`.
 */
import type { IsoDate } from "../model";
import { dayNumber, type InvoiceAsOf } from "./as-of";
import type { Trend } from "./types";

export interface TrendOptions {
  /** "cusum": robust one-sided CUSUMs against the customer's own baseline (default); "glr": windowed test. */
  method: "glr" | "cusum";
  /** GLR: largest window (observations) tested. */
  maxWindow: number;
  /** GLR: z the shift must reach, the baseline's own uncertainty included. */
  zThreshold: number;
  warmup: number;
  baselineWindow: number;
  minEffectDays: number;
  /** CUSUM: reference value in SDs (about half the smallest shift, in SDs, worth catching). */
  k: number;
  /** CUSUM: decision interval in SDs. */
  h: number;
  zCap: number;
  minEpisodeObs: number;
  minSdDays: number;
  sdPriorWeight: number;
  /** CUSUM: observations (at most) run through the chart; older ones only feed baselines. */
  lookback: number;
  /** Baselines read settled observations only (open invoices are only lower bounds). */
  baselineSettledOnly: boolean;
  /** CUSUM: censored values are replaced by their expectation given "at least N" under the baseline. */
  imputeCensored: boolean;
  /** State: judge the recent window against the baseline (false: the onset detector alone, as before). */
  state: boolean;
  /** State: the recent window covers the invoices due in the last `windowDays`, or the last `windowMinObs`. */
  windowDays: number;
  windowMinObs: number;
  /** State: the baseline is the invoices due in the `baselineDays` before the window (or before the onset). */
  baselineDays: number;
  /** State: fewest baseline observations to judge against. */
  stateMinBaseline: number;
  /** State: the shift must exceed stateZ standard errors and stateMinEffectDays. */
  stateZ: number;
  stateMinEffectDays: number;
  /** State: while an onset the detector flagged stays in view, the baseline ends where that run began. */
  pinOnset: boolean;
  /** State: with a pinned onset, the recent window reaches back to it when that covers more. */
  windowFromOnset: boolean;
  /** State: the baseline's centre is its mean winsorised at median +- stateCap SDs (false: its median). */
  stateWinsorisedMean: boolean;
  /** State: each observation counts at most this many SDs from the baseline. */
  stateCap: number;
  /** State: replay the state over the lookback, keeping the pre-episode baseline while an episode lasts. */
  stateMemory: boolean;
}

export const DEFAULT_TREND_OPTIONS: TrendOptions = {
  method: "cusum",
  maxWindow: 6,
  zThreshold: 3,
  warmup: 5,
  baselineWindow: 12,
  minEffectDays: 7,
  k: 0.7,
  h: 5,
  zCap: 3,
  minEpisodeObs: 2,
  minSdDays: 3,
  sdPriorWeight: 5,
  lookback: 24,
  baselineSettledOnly: true,
  imputeCensored: true,
  state: true,
  windowDays: 90,
  windowMinObs: 4,
  baselineDays: 365,
  stateMinBaseline: 4,
  stateZ: 0.9,
  stateMinEffectDays: 4,
  pinOnset: true,
  windowFromOnset: true,
  stateWinsorisedMean: true,
  stateCap: 1,
  stateMemory: true,
};

export interface TrendPoint {
  dueDate: IsoDate;
  /** dayNumber(dueDate), when the caller has it. */
  dueDay?: number;
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
  /** Mean days beyond terms of the recent observations the state was judged on (null without a judgement). */
  recentDays?: number | null;
  /** Observations in the recent window and in the baseline the state was judged on. */
  recentObservations?: number;
  baselineObservations?: number;
  /**
   * The onset detector's current alarm: due date of the first invoice of a run the CUSUM flags right now (null
   * when it flags none). Alerts are raised from this, one per episode; `trend` is the state it feeds.
   */
  onsetOn?: IsoDate | null;
}

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

interface Baseline {
  mean: number;
  sd: number;
}

/**
 * Robust baseline of series[start..end): median, and MAD-based SD shrunk toward the organisation's pooled
 * within-customer SD with `sdPriorWeight` pseudo-observations, never below `minSdDays`.
 */
function robustBaseline(
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
  const m = buf.length;
  if (m === 0) return { mean: 0, sd: Math.max(o.minSdDays, orgSd) };
  sortNumbers(buf);
  const med = m % 2 ? buf[(m - 1) >> 1]! : (buf[m / 2 - 1]! + buf[m / 2]!) / 2;
  for (let i = 0; i < m; i++) buf[i] = Math.abs(buf[i]! - med);
  sortNumbers(buf);
  const mad = m % 2 ? buf[(m - 1) >> 1]! : (buf[m / 2 - 1]! + buf[m / 2]!) / 2;
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

/**
 * Two one-sided CUSUMs on standardised residuals against the customer's own robust baseline. The baseline of an
 * observation is the up to `baselineWindow` observations before it, frozen at the start of a run (so an ongoing
 * change never contaminates its own baseline). A censored value enters at its expectation given "at least N days
 * late" under that baseline: an invoice 10 days overdue from a customer who pays 5 days early is strong evidence.
 * Residuals are capped at +-zCap SDs. An alarm needs the statistic above h, at least minEpisodeObs observations
 * in the run, and the run's mean shift at least minEffectDays.
 */
interface CusumOutcome {
  /** The detector's own verdict (its alarm, else stable). */
  result: TrendResult;
  /** Start index of the latest run that crossed h upward / downward within the lookback (-1: none). */
  pinUp: number;
  pinDown: number;
}

function robustCusum(series: readonly TrendPoint[], orgSd: number, o: TrendOptions): CusumOutcome {
  const n = series.length;
  const first = Math.max(o.warmup, n - o.lookback);
  const buf: number[] = [];
  const baseAt = (end: number): Baseline => robustBaseline(series, end, orgSd, o, buf);
  const value = (i: number, b: Baseline): number => {
    const p = series[i]!;
    const x =
      p.censored && o.imputeCensored
        ? censoredExpectation(p.daysBeyondTerms, b.mean, b.sd)
        : p.daysBeyondTerms;
    return Math.max(b.mean - o.zCap * b.sd, Math.min(b.mean + o.zCap * b.sd, x));
  };

  let up = 0;
  let down = 0;
  let upStart = -1;
  let downStart = -1;
  let upBase: Baseline | null = null;
  let downBase: Baseline | null = null;
  let last: Baseline = baseAt(first);
  let pinUp = -1;
  let pinDown = -1;
  for (let i = first; i < n; i++) {
    const fresh = upStart < 0 || downStart < 0 ? baseAt(i) : last;
    const bu: Baseline = upStart >= 0 && upBase ? upBase : fresh;
    const bd: Baseline = downStart >= 0 && downBase ? downBase : fresh;
    last = fresh;
    const zu = (value(i, bu) - bu.mean) / bu.sd;
    const zd = (value(i, bd) - bd.mean) / bd.sd;
    const nextUp = Math.max(0, up + zu - o.k);
    const nextDown = Math.max(0, down - zd - o.k);
    if (nextUp > 0 && up === 0) {
      upStart = i;
      upBase = bu;
    }
    if (nextUp === 0) upStart = -1;
    if (nextDown > 0 && down === 0) {
      downStart = i;
      downBase = bd;
    }
    if (nextDown === 0) downStart = -1;
    up = nextUp;
    down = nextDown;
    if (up > o.h && upStart >= 0) pinUp = upStart;
    if (down > o.h && downStart >= 0) pinDown = downStart;
  }

  const episode = (start: number, b: Baseline, sign: 1 | -1): TrendResult | null => {
    const count = n - start;
    if (count < o.minEpisodeObs) return null;
    let sum = 0;
    let plain = 0;
    for (let i = start; i < n; i++) {
      sum += value(i, b);
      const p = series[i]!;
      plain +=
        p.censored && o.imputeCensored
          ? censoredExpectation(p.daysBeyondTerms, b.mean, b.sd)
          : p.daysBeyondTerms;
    }
    const change = sum / count - b.mean;
    if (change * sign < o.minEffectDays) return null;
    // Reported: the plain mean of the run against the baseline (capping is for the test only), same direction.
    const shown = plain / count - b.mean;
    return {
      trend: sign > 0 ? "deteriorating" : "improving",
      changeDays: Math.round((shown * sign >= o.minEffectDays ? shown : change) * 10) / 10,
      startedOn: series[start]!.dueDate,
      baselineDays: Math.round(b.mean * 10) / 10,
      sdDays: Math.round(b.sd * 10) / 10,
      episodeObservations: count,
    };
  };
  const worse = up > o.h && upStart >= 0 ? episode(upStart, upBase!, 1) : null;
  if (worse) return { result: { ...worse, onsetOn: worse.startedOn }, pinUp, pinDown };
  const better = down > o.h && downStart >= 0 ? episode(downStart, downBase!, -1) : null;
  if (better) return { result: { ...better, onsetOn: null }, pinUp, pinDown };
  const b = baseAt(n);
  return {
    result: {
      trend: "stable",
      changeDays: null,
      startedOn: null,
      baselineDays: Math.round(b.mean * 10) / 10,
      sdDays: Math.round(b.sd * 10) / 10,
      episodeObservations: 0,
      onsetOn: null,
    },
    pinUp,
    pinDown,
  };
}

const dueDayOf = (p: TrendPoint): number => p.dueDay ?? dayNumber(p.dueDate);

/** First index i in [0, end) with xs[i] >= x (end when none); xs ascending. */
function lowerBound(xs: readonly number[], x: number, end: number): number {
  let lo = 0;
  let hi = end;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The trend as a state (issue 18). While the onset detector flags a run, the state is that run (its change is
 * the run's mean against the baseline before it). Otherwise the customer's recent behaviour, the invoices due in
 * the last `windowDays` or their last `windowMinObs` settled-or-overdue invoices (whichever covers more), is
 * compared with their own baseline, the invoices due in the `baselineDays` before that window; an open overdue
 * invoice counts as "at least this late" (its expectation given that bound under the baseline). The state is
 * `deteriorating` (or `improving`) when the recent mean is beyond the baseline by more than `stateZ` standard
 * errors and `stateMinEffectDays`; otherwise `stable`.
 *
 * The state has memory: it is replayed over the customer's last `lookback` observations (each judged with the
 * window ending at it, values as known on asOf), and once deteriorating (or improving) the baseline stays the
 * one from before the episode began, until a window is back within the noise of it. So a customer who has paid
 * later ever since stays `deteriorating` instead of the new level quietly becoming their baseline. A run the
 * onset detector flagged within the lookback also ends the baseline where it began. The wording, change in days
 * and reasons all read the numbers of the final judgement.
 */
function trendState(
  series: readonly TrendPoint[],
  orgSd: number,
  o: TrendOptions,
  asOfDay: number,
  c: CusumOutcome,
): TrendResult {
  const alarm = c.result;
  const stable = (extra: Partial<TrendResult> = {}): TrendResult => ({
    ...alarm,
    trend: "stable",
    changeDays: null,
    startedOn: null,
    episodeObservations: 0,
    onsetOn: null,
    ...extra,
  });
  if (alarm.trend === "deteriorating" || alarm.trend === "improving") return alarm;

  // Settled or overdue observations (open invoices not yet due say nothing yet), with their due days.
  const pts: TrendPoint[] = [];
  const days: number[] = [];
  for (const p of series) {
    if (p.censored && p.daysBeyondTerms <= 0) continue;
    pts.push(p);
    days.push(dueDayOf(p));
  }
  const m = pts.length;
  if (m === 0) return stable();
  const pin = o.pinOnset ? Math.max(c.pinUp, c.pinDown) : -1;
  const pinDay = pin >= 0 ? dueDayOf(series[pin]!) : Number.POSITIVE_INFINITY;
  const buf: number[] = [];
  const copy: number[] = [];

  /** Judges the window ending with observation `last` (inclusive) on day `endDay` against the baseline ending on `baseEnd` (or before the window). */
  const judge = (last: number, endDay: number, frozenBaseEnd: number | null) => {
    const k = Math.max(0, last + 1 - o.windowMinObs);
    let windowStart = Math.min(endDay - o.windowDays, days[k]!);
    if (o.windowFromOnset && frozenBaseEnd !== null) windowStart = Math.min(windowStart, frozenBaseEnd);
    const baseEnd = Math.min(windowStart, frozenBaseEnd ?? pinDay);
    const baseStart = baseEnd - o.baselineDays;
    // Observations are in due-day order: find the window's first and the baseline's range by binary search.
    const first = lowerBound(days, windowStart, last + 1);
    if (first > last) return null;
    const b0 = lowerBound(days, baseStart, first);
    const b1 = lowerBound(days, baseEnd, first);
    buf.length = 0;
    for (let i = b0; i < b1; i++) if (!pts[i]!.censored) buf.push(pts[i]!.daysBeyondTerms);
    const nb = buf.length;
    if (nb < o.stateMinBaseline) return null;
    let b: Baseline;
    if (o.stateWinsorisedMean) {
      copy.length = 0;
      for (const x of buf) copy.push(x);
      const r = robustStats(buf, orgSd, o);
      let t = 0;
      for (const x of copy)
        t += Math.max(r.mean - o.stateCap * r.sd, Math.min(r.mean + o.stateCap * r.sd, x));
      b = { mean: t / copy.length, sd: r.sd };
    } else b = robustStats(buf, orgSd, o);
    // The test reads each value capped at stateCap SDs (one disputed invoice cannot tip it); what is reported
    // (recent mean, change in days) is the plain mean, so a 15-day shift reads as about 15 days. Both must agree.
    let sum = 0;
    let shown = 0;
    for (let i = first; i <= last; i++) {
      const p = pts[i]!;
      const x = p.censored ? censoredExpectation(p.daysBeyondTerms, b.mean, b.sd) : p.daysBeyondTerms;
      sum += Math.max(b.mean - o.stateCap * b.sd, Math.min(b.mean + o.stateCap * b.sd, x));
      shown += x;
    }
    const nr = last + 1 - first;
    const tested = sum / nr - b.mean;
    const recentMean = shown / nr;
    const change = recentMean - b.mean;
    const se = b.sd * Math.sqrt(1 / nr + 1 / nb);
    const beyond =
      Math.abs(tested) >= Math.max(o.stateMinEffectDays, o.stateZ * se) &&
      Math.sign(change) === Math.sign(tested) &&
      Math.abs(change) >= o.stateMinEffectDays;
    return { b, recentMean, change, nr, nb, first, windowStart, baseEnd, beyond };
  };

  // Replay: the state after each of the last `lookback` observations, then on asOf itself.
  let state: 1 | 0 | -1 = 0;
  let frozen: number | null = null;
  let episodeStart = -1;
  const from = o.stateMemory ? Math.max(o.warmup, m - o.lookback) : m;
  let j: ReturnType<typeof judge> = null;
  for (let step = from; step <= m; step++) {
    const last = step < m ? step : m - 1;
    const endDay = step < m ? days[step]! : asOfDay;
    j = judge(last, endDay, state !== 0 ? frozen : null);
    if (!j) continue;
    const sign = j.change > 0 ? 1 : -1;
    if (state === 0) {
      if (j.beyond) {
        state = sign;
        frozen = j.baseEnd;
        episodeStart = j.first;
      }
    } else if (!j.beyond || sign !== state) {
      // Back within the noise of the pre-episode baseline (or beyond it the other way): judge afresh.
      state = 0;
      frozen = null;
      episodeStart = -1;
      j = judge(last, endDay, null);
      if (j?.beyond) {
        state = j.change > 0 ? 1 : -1;
        frozen = j.baseEnd;
        episodeStart = j.first;
      }
    }
  }
  if (!j) return stable();
  const judged = {
    baselineDays: Math.round(j.b.mean * 10) / 10,
    sdDays: Math.round(j.b.sd * 10) / 10,
    recentDays: Math.round(j.recentMean * 10) / 10,
    recentObservations: j.nr,
    baselineObservations: j.nb,
  };
  if (state === 0) return stable(judged);
  return {
    trend: state > 0 ? "deteriorating" : "improving",
    changeDays: Math.round(j.change * 10) / 10,
    startedOn: pts[Math.max(0, episodeStart)]!.dueDate,
    episodeObservations: j.nr,
    onsetOn: null,
    ...judged,
  };
}

/** Median and MAD-based SD (shrunk toward the organisation's, floored) of `values` (reordered in place). */
function robustStats(values: number[], orgSd: number, o: TrendOptions): Baseline {
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
  /** The onset detector's current alarm (see CustomerScore); when present, alerts follow it. */
  trend_onset_on?: IsoDate | null;
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
  // The state can stay deteriorating long after the onset; only the onset detector's alarm raises alerts.
  const started = current.trend_onset_on !== undefined ? current.trend_onset_on : current.trend_started_on;
  if (current.trend_onset_on !== undefined && started === null) return false;
  if (!lastAlert) return true;
  if (started === lastAlert.startedOn) return false;
  return (started ?? "") > lastAlert.alertedOn;
}

/** Alerts to raise over a customer's results in time order: one per episode (see `isNewEpisode`). */
export function detectEpisodes(history: readonly (TrendSnapshot & { asOf: IsoDate })[]): Episode[] {
  const out: Episode[] = [];
  let last: Episode | null = null;
  for (const h of history) {
    if (isNewEpisode(last, h)) {
      last = { startedOn: h.trend_onset_on ?? h.trend_started_on, alertedOn: h.asOf };
      out.push(last);
    }
  }
  return out;
}
