/**
 * When a scheduled statement is due, pure: monthly on a chosen day (the 31st means the month's last day) or
 * weekly on a chosen weekday. A period has a key (`2026-12`, `2026-W49`) that the sending side claims per
 * customer, so a statement never goes twice for one period.
 *
 * The statement's day moves forward to the next working day when it falls outside the sending days or on a
 * public holiday (the caller's `isWorkingDay` says which). A statement missed by more than `CATCH_UP_DAYS`
 * (the server was off, or statements were switched on later) is not sent late: the next period's is.
 */
import { daysInMonth, isoWeekday } from "../days";
import { addDays, daysBetween, type IsoDate, type StatementSchedule } from "../model";

export type { StatementSchedule };

export const CATCH_UP_DAYS = 7;

/** The ISO week key of a date (`2026-W49`; weeks start on Monday, week 1 holds the year's first Thursday). */
export function isoWeekKey(date: IsoDate): string {
  const thursday = addDays(date, 4 - isoWeekday(date));
  const year = Number(thursday.slice(0, 4));
  const week = Math.floor(daysBetween(`${year}-01-01`, thursday) / 7) + 1;
  return `${year}-W${String(week).padStart(2, "0")}`;
}

/** The schedule's nominal day in the period holding `date`, and that period's key. */
function nominal(schedule: StatementSchedule, date: IsoDate): { period: string; day: IsoDate } {
  if (schedule.every === "week") {
    const monday = addDays(date, 1 - isoWeekday(date));
    return { period: isoWeekKey(date), day: addDays(monday, schedule.weekday - 1) };
  }
  const year = Number(date.slice(0, 4));
  const month = Number(date.slice(5, 7));
  const day = Math.min(schedule.day, daysInMonth(year, month));
  return { period: date.slice(0, 7), day: `${date.slice(0, 8)}${String(day).padStart(2, "0")}` };
}

/** The first working day on or after `date` (at most 31 days on: a calendar with no working day sends none). */
function nextWorkingDay(date: IsoDate, isWorkingDay: (d: IsoDate) => boolean): IsoDate | null {
  for (let i = 0; i <= 31; i++) {
    const d = addDays(date, i);
    if (isWorkingDay(d)) return d;
  }
  return null;
}

export function checkSchedule(schedule: StatementSchedule): string | null {
  if (schedule.every === "month")
    return Number.isInteger(schedule.day) && schedule.day >= 1 && schedule.day <= 31
      ? null
      : "the day of the month must be a whole number from 1 to 31";
  return Number.isInteger(schedule.weekday) && schedule.weekday >= 1 && schedule.weekday <= 7
    ? null
    : "the weekday must be 1 (Monday) to 7 (Sunday)";
}

export type StatementDue = { due: true; period: string; day: IsoDate } | { due: false; next: IsoDate | null };

/**
 * The period whose statement should go on `today`, if any: the latest period whose (moved) day is on or before
 * today and not more than CATCH_UP_DAYS ago. Otherwise the day the next one will be due.
 */
export function statementDue(
  schedule: StatementSchedule,
  today: IsoDate,
  isWorkingDay: (d: IsoDate) => boolean,
): StatementDue {
  const current = nominal(schedule, today);
  const previousDate = schedule.every === "week" ? addDays(today, -7) : addDays(`${today.slice(0, 8)}01`, -1);
  const previous = nominal(schedule, previousDate);
  for (const p of [current, previous]) {
    const day = nextWorkingDay(p.day, isWorkingDay);
    if (day && day <= today && daysBetween(day, today) <= CATCH_UP_DAYS)
      return { due: true, period: p.period, day };
  }
  const upcoming = nextWorkingDay(current.day, isWorkingDay);
  if (upcoming && upcoming > today) return { due: false, next: upcoming };
  const nextDate = schedule.every === "week" ? addDays(today, 7) : addDays(`${today.slice(0, 8)}01`, 32);
  return { due: false, next: nextWorkingDay(nominal(schedule, nextDate).day, isWorkingDay) };
}
