/**
 * Public holidays of an organisation's country, from date-holidays (type "public" only: bank holidays, not
 * observances or optional days). Cached per country and year.
 */
import Holidays from "date-holidays";
import type { IsoDate } from "../model";

const cache = new Map<string, Map<IsoDate, string>>();

function holidaysOfYear(country: string, year: number): Map<IsoDate, string> {
  const key = `${country}:${year}`;
  let found = cache.get(key);
  if (!found) {
    found = new Map();
    const hd = new Holidays(country);
    for (const h of hd.getHolidays(year) ?? []) {
      if (h.type !== "public") continue;
      const date = h.date.slice(0, 10);
      if (!found.has(date)) found.set(date, h.name);
    }
    cache.set(key, found);
  }
  return found;
}

/** Public holidays of `country` (ISO 3166 alpha-2, e.g. "GB") in the years covering `dates`. */
export function publicHolidays(
  country: string | null | undefined,
  dates: readonly IsoDate[],
): Map<IsoDate, string> {
  const out = new Map<IsoDate, string>();
  if (!country) return out;
  const years = new Set(dates.map((d) => Number(d.slice(0, 4))));
  for (const y of years) for (const [d, name] of holidaysOfYear(country.toUpperCase(), y)) out.set(d, name);
  return out;
}
