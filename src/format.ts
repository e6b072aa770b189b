/**
 * The one formatter for people: money and dates in emails (reminders, owner notices, the digest), dashboard
 * pages, the customers' page and its PDF statement, always in the organisation's locale. Money is integer minor
 * units with its currency ("£1,234.50"); dates are ISO dates shown as "4 Dec 2026" (dateStyle "medium").
 *
 * PURE: Intl only (formatters cached per locale and currency).
 */
import { currencyExponent, type IsoDate, type Money } from "./model";

export const DEFAULT_LOCALE = "en-GB";

const money = new Map<string, Intl.NumberFormat>();
const dates = new Map<string, Intl.DateTimeFormat>();
const times = new Map<string, Intl.DateTimeFormat>();

/** "£1,234.50" (en-GB), "1.234,50 €" (de-DE): minor units of a currency in a locale. */
export function formatMoney(m: Money, locale = DEFAULT_LOCALE): string {
  const key = `${locale}|${m.currency}`;
  let f = money.get(key);
  if (!f) {
    f = new Intl.NumberFormat(locale, { style: "currency", currency: m.currency });
    money.set(key, f);
  }
  return f.format(m.minor / 10 ** currencyExponent(m.currency));
}

/** Several currencies side by side, never added together: "£1,250.00 + €80.00" ("–" when empty). */
export function formatMoneyList(list: readonly Money[], locale = DEFAULT_LOCALE, empty = "–"): string {
  return list.map((m) => formatMoney(m, locale)).join(" + ") || empty;
}

/** An ISO date as people read it: "4 Dec 2026" (en-GB), "Dec 4, 2026" (en-US). */
export function formatDate(date: IsoDate, locale = DEFAULT_LOCALE): string {
  let f = dates.get(locale);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeZone: "UTC" });
    dates.set(locale, f);
  }
  return f.format(new Date(`${date}T00:00:00Z`));
}

/** An instant in a timezone: "Mon 7 Dec 2026, 09:00 GMT". */
export function formatInstant(epochMs: number, timeZone: string, locale = DEFAULT_LOCALE): string {
  const key = `${locale}|${timeZone}`;
  let f = times.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, {
      weekday: "short",
      day: "numeric",
      month: "short",
      year: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
      timeZone,
      timeZoneName: "short",
    });
    times.set(key, f);
  }
  return f.format(new Date(epochMs));
}
