/**
 * The onset detector: robust one-sided CUSUMs against the customer's own baseline (the default method; see
 * trend.ts for the tuning). Pure.
 */
import { type Baseline, censoredExpectation, SortedRange, stableAgainst } from "./trend-stats";
import type { TrendOptions, TrendPoint, TrendResult } from "./trend-types";

/**
 * Two one-sided CUSUMs on standardised residuals against the customer's own robust baseline. The baseline of an
 * observation is the up to `baselineWindow` observations before it, frozen at the start of a run (so an ongoing
 * change never contaminates its own baseline). A censored value enters at its expectation given "at least N days
 * late" under that baseline: an invoice 10 days overdue from a customer who pays 5 days early is strong evidence.
 * Residuals are capped at +-zCap SDs. An alarm needs the statistic above h, at least minEpisodeObs observations
 * in the run, and the run's mean shift at least minEffectDays.
 */
export interface CusumOutcome {
  /** The detector's own verdict (its alarm, else stable). */
  result: TrendResult;
  /** Start index of the latest run that crossed h upward / downward within the lookback (-1: none). */
  pinUp: number;
  pinDown: number;
}

export function robustCusum(series: readonly TrendPoint[], orgSd: number, o: TrendOptions): CusumOutcome {
  const n = series.length;
  const first = Math.max(o.warmup, n - o.lookback);
  // The baseline at `end`: robustStats of the last `baselineWindow` eligible observations before it (settled
  // ones only with baselineSettledOnly), kept sorted as `end` moves on.
  const values: number[] = [];
  const use: boolean[] = [];
  const eligible: number[] = [];
  const before: number[] = [0];
  for (let i = 0; i < n; i++) {
    const p = series[i]!;
    values.push(p.daysBeyondTerms);
    const ok = !(o.baselineSettledOnly && p.censored);
    use.push(ok);
    if (ok) eligible.push(i);
    before.push(eligible.length);
  }
  const range = new SortedRange(values, use);
  const baseAt = (end: number): Baseline => {
    const c = before[end]!;
    if (c === 0 || o.baselineWindow <= 0) return { mean: 0, sd: Math.max(o.minSdDays, orgSd) };
    range.moveTo(eligible[Math.max(0, c - o.baselineWindow)]!, end);
    return range.stats(orgSd, o);
  };
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
    result: { ...stableAgainst(b), onsetOn: null },
    pinUp,
    pinDown,
  };
}
