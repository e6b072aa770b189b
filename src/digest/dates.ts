/** Date helpers the digest needs (re-exported from the model, plus the instant a local day starts). */
import { zonedInstant } from "../reminders/window";

export { AGING_BUCKETS, addDays, dateInZone, type IsoDate } from "../model";

/** The instant `date` begins in `timeZone`. */
export function zonedStartOfDay(date: string, timeZone: string): number {
  return zonedInstant(date, 0, timeZone);
}
