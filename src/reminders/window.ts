/**
 * The sending window: reminders go out only between a local start and end time, on chosen weekdays, and
 * never on the organisation country's public holidays, judged in the customer's own timezone.
 *
 * PURE: instants come in as arguments; holidays come in as a set of ISO dates.
 */
import { isoWeekday } from "../days";
import type { IsoDate } from "../model";
import type { SendingWindow } from "../model/reminders";

const HHMM_RE = /^([01]\d|2[0-3]):([0-5]\d)$/;

export function isHhMm(text: string): boolean {
  return HHMM_RE.test(text);
}

/** Minutes after midnight of "HH:MM". */
export function minutesOf(hhmm: string): number {
  const m = HHMM_RE.exec(hhmm);
  if (!m) throw new Error(`expected a time written HH:MM, got ${JSON.stringify(hhmm)}`);
  return Number(m[1]) * 60 + Number(m[2]);
}

export interface LocalMoment {
  date: IsoDate;
  /** ISO weekday, 1 = Monday. */
  weekday: number;
  /** Minutes after local midnight. */
  minutes: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-CA", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The local date, weekday and time of an instant in a timezone. */
export function localMoment(epochMs: number, timeZone: string): LocalMoment {
  const parts: Record<string, string> = {};
  for (const p of formatterFor(timeZone).formatToParts(new Date(epochMs))) parts[p.type] = p.value;
  const date = `${parts.year}-${parts.month}-${parts.day}`;
  return { date, weekday: isoWeekday(date), minutes: Number(parts.hour) * 60 + Number(parts.minute) };
}

/** Offset of a timezone from UTC at an instant, in minutes (east positive). */
function offsetMinutes(epochMs: number, timeZone: string): number {
  const l = localMoment(epochMs, timeZone);
  const asUtc = Date.parse(`${l.date}T00:00:00Z`) + l.minutes * 60_000;
  const truncated = epochMs - (((epochMs % 60_000) + 60_000) % 60_000);
  return Math.round((asUtc - truncated) / 60_000);
}

/**
 * The instant a local wall-clock time happens in a timezone. In a DST gap the time is moved forward by the gap;
 * in a repeated hour the first occurrence is taken.
 */
export function zonedInstant(date: IsoDate, minutes: number, timeZone: string): number {
  const naive = Date.parse(`${date}T00:00:00Z`) + minutes * 60_000;
  const first = naive - offsetMinutes(naive, timeZone) * 60_000;
  const second = naive - offsetMinutes(first, timeZone) * 60_000;
  if (first === second) return first;
  // Around a transition: prefer the earlier instant that reads as the wanted wall time.
  const candidates = [Math.min(first, second), Math.max(first, second)];
  for (const c of candidates) {
    const l = localMoment(c, timeZone);
    if (l.date === date && l.minutes === minutes) return c;
  }
  return Math.max(first, second);
}

export type WindowVerdict = { open: true } | { open: false; reason: string };

/** Whether reminders may go out at a local moment. */
export function windowVerdict(
  local: LocalMoment,
  window: SendingWindow,
  holidays: ReadonlyMap<IsoDate, string>,
): WindowVerdict {
  if (!window.days.includes(local.weekday))
    return { open: false, reason: `not a sending day (${local.date})` };
  const holiday = holidays.get(local.date);
  if (holiday !== undefined) return { open: false, reason: `public holiday: ${holiday} (${local.date})` };
  const start = minutesOf(window.start);
  const end = minutesOf(window.end);
  if (local.minutes < start || local.minutes >= end) {
    const hh = String(Math.floor(local.minutes / 60)).padStart(2, "0");
    const mm = String(local.minutes % 60).padStart(2, "0");
    return {
      open: false,
      reason: `outside the sending window (${hh}:${mm} local, window ${window.start}-${window.end})`,
    };
  }
  return { open: true };
}
