/**
 * The trend detector's options (with the tuned defaults), its input points and its result (see trend.ts).
 */
import type { IsoDate } from "../model";
import type { Trend } from "../model/monitor";

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
