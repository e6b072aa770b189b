/**
 * Day numbers: an ISO date as whole days since 1970-01-01 (UTC calendar), and back. The hot paths (reminder
 * planning, the monitor) compare and subtract dates as day numbers. Pure: no clock.
 */
import type { IsoDate } from "./model";

const DAY_MS = 86_400_000;

/** A character code minus 48 that is a decimal digit (as unsigned: a code below "0" wraps far above 9). */
const digit = (x: number): boolean => x >>> 0 <= 9;

/** Days since 1970-01-01 of an ISO date, read digit by digit (no Date, no allocation). */
export function dayNumber(date: IsoDate): number {
  const y0 = date.charCodeAt(0) - 48;
  const y1 = date.charCodeAt(1) - 48;
  const y2 = date.charCodeAt(2) - 48;
  const y3 = date.charCodeAt(3) - 48;
  const m0 = date.charCodeAt(5) - 48;
  const m1 = date.charCodeAt(6) - 48;
  const d0 = date.charCodeAt(8) - 48;
  const d1 = date.charCodeAt(9) - 48;
  let y = y0 * 1000 + y1 * 100 + y2 * 10 + y3;
  const m = m0 * 10 + m1;
  const d = d0 * 10 + d1;
  if (
    date.length !== 10 ||
    date.charCodeAt(4) !== 45 ||
    date.charCodeAt(7) !== 45 ||
    !(digit(y0) && digit(y1) && digit(y2) && digit(y3) && digit(m0) && digit(m1) && digit(d0) && digit(d1)) ||
    !(m >= 1 && m <= 12 && d >= 1 && d <= 31)
  ) {
    const t = Date.parse(`${date}T00:00:00Z`);
    if (Number.isNaN(t)) throw new RangeError(`not an ISO date: ${date}`);
    return Math.round(t / DAY_MS);
  }
  // Days from the civil date (proleptic Gregorian), after H. Hinnant's algorithm.
  if (m <= 2) y -= 1;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** The ISO date of a day number (days since 1970-01-01). */
export function isoOfDay(day: number): IsoDate {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** ISO weekday of a calendar date: 1 = Monday ... 7 = Sunday. */
export function isoWeekday(date: IsoDate): number {
  const d = new Date(`${date}T00:00:00Z`).getUTCDay();
  return d === 0 ? 7 : d;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

/** Days in a month of the proleptic Gregorian calendar (`month` 1-12). */
export function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 2 && leap ? 29 : (MONTH_DAYS[month - 1] ?? 31);
}
