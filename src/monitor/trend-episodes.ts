/**
 * Deterioration alerts from stored trend results: one alert per episode. Pure.
 */
import type { IsoDate } from "../model";
import type { Episode, Trend } from "../model/monitor";

/** The part of a stored result episode detection needs (a `CustomerScore` fits). */
export interface TrendSnapshot {
  trend: Trend;
  trend_started_on: IsoDate | null;
  /** The onset detector's current alarm (see CustomerScore); when present, alerts follow it. */
  trend_onset_on?: IsoDate | null;
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
