/**
 * The trend as a state: the customer's recent window judged against their own baseline, replayed with memory
 * (see `trendState`). Pure.
 */
import type { CusumOutcome } from "./trend-cusum";
import { type Baseline, censoredExpectation, dueDayOf, lowerBound, SortedRange } from "./trend-stats";
import type { TrendOptions, TrendPoint, TrendResult } from "./trend-types";

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
export function trendState(
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
  // The baseline's settled values, kept sorted as the judged windows move (robustStats without re-sorting).
  const values: number[] = [];
  const settled: boolean[] = [];
  for (let i = 0; i < m; i++) {
    values.push(pts[i]!.daysBeyondTerms);
    settled.push(!pts[i]!.censored);
  }
  const range = new SortedRange(values, settled);

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
    range.moveTo(b0, b1);
    const nb = range.count;
    if (nb < o.stateMinBaseline) return null;
    let b: Baseline;
    if (o.stateWinsorisedMean) {
      const r = range.stats(orgSd, o);
      // Summed in series order (the order of the values' sum is part of the result).
      let t = 0;
      for (let i = b0; i < b1; i++)
        if (settled[i])
          t += Math.max(r.mean - o.stateCap * r.sd, Math.min(r.mean + o.stateCap * r.sd, values[i]!));
      b = { mean: t / nb, sd: r.sd };
    } else b = range.stats(orgSd, o);
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
