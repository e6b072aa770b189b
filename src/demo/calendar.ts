/**
 * Calendar arithmetic on ISO dates (`YYYY-MM-DD`) the demo generator needs beyond model.ts's addDays and
 * daysBetween. Pure: UTC arithmetic on the given dates, no clock.
 */
import { dayNumber, daysInMonth, isoOfDay } from "../days";
import type { IsoDate } from "../model";

// The generator does hundreds of thousands of date steps over a few thousand distinct dates: memoise the
// formatting (Date formatting dominates otherwise). Deterministic, so still pure.
const isoByDayNumber = new Map<number, IsoDate>();

function fromDayNumber(n: number): IsoDate {
  let date = isoByDayNumber.get(n);
  if (date === undefined) {
    date = isoOfDay(n);
    isoByDayNumber.set(n, date);
  }
  return date;
}

/** model.ts's addDays, on day numbers (the ISO formatting memoised). */
export function addDays(date: IsoDate, days: number): IsoDate {
  return days === 0 ? date : fromDayNumber(dayNumber(date) + days);
}

/** model.ts's daysBetween, on day numbers: whole days from a to b. */
export function daysFrom(a: IsoDate, b: IsoDate): number {
  return dayNumber(b) - dayNumber(a);
}

function parts(date: IsoDate): [number, number, number] {
  return [Number(date.slice(0, 4)), Number(date.slice(5, 7)), Number(date.slice(8, 10))];
}

function format(year: number, month: number, day: number): IsoDate {
  return `${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

/** The first day of the month `date` falls in. */
export function startOfMonth(date: IsoDate): IsoDate {
  return `${date.slice(0, 7)}-01`;
}

/** The last day of the month `date` falls in. */
export function endOfMonth(date: IsoDate): IsoDate {
  const [y, m] = parts(date);
  return format(y, m, daysInMonth(y, m));
}

/** Adds calendar months, clamping the day to the target month's length (Jan 31 + 1 month = Feb 28/29). */
export function addMonths(date: IsoDate, months: number): IsoDate {
  const [y, m, d] = parts(date);
  const index = y * 12 + (m - 1) + months;
  const year = Math.floor(index / 12);
  const month = index - year * 12 + 1;
  return format(year, month, Math.min(d, daysInMonth(year, month)));
}

/** The month number (1-12) of a date. */
export function monthOf(date: IsoDate): number {
  return Number(date.slice(5, 7));
}

/** Day of the week, 0 = Sunday ... 6 = Saturday. */
export function weekday(date: IsoDate): number {
  // 1970-01-01 was a Thursday.
  return (((dayNumber(date) + 4) % 7) + 7) % 7;
}

/** The date itself on a weekday, otherwise the following Monday (banks do not move money at weekends). */
export function nextBusinessDay(date: IsoDate): IsoDate {
  const wd = weekday(date);
  if (wd === 6) return addDays(date, 2);
  if (wd === 0) return addDays(date, 1);
  return date;
}

/** The date itself on a weekday, otherwise the Friday before (invoices are raised in the working week). */
export function previousBusinessDay(date: IsoDate): IsoDate {
  const wd = weekday(date);
  if (wd === 6) return addDays(date, -1);
  if (wd === 0) return addDays(date, -2);
  return date;
}

/** The later of two ISO dates. */
export function maxDate(a: IsoDate, b: IsoDate): IsoDate {
  return a >= b ? a : b;
}
