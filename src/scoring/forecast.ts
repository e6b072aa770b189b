/**
 * The cash-in forecast of a stored organisation: load the ledger (store) -> forecast (pure monitor). Shared by
 * the `forecast` command, the organisation page and the weekly digest. The clock is read by the caller.
 */
import type { IsoDate } from "../model";
import { type CurrencyForecast, forecastOrganisation } from "../monitor/index";
import { ledgerVersionOf } from "../store/dashboard-summary";
import type { Db } from "../store/db";
import { loadMonitorInput } from "../store/monitor-input";
import type { Organisation } from "../store/orgs";

/** The public JSON of one currency's forecast (`forecast --json`): exactly the documented fields. */
export function forecastJson(f: CurrencyForecast) {
  return {
    currency: f.currency,
    weeks: f.weeks.map((w) => ({ week_start: w.week_start, expected: w.expected, p10: w.p10, p90: w.p90 })),
    invoices: f.invoices.map((i) => ({
      invoice_number: i.invoice_number,
      customer_id: i.customer_id,
      expected_date: i.expected_date,
      p_paid_30: i.p_paid_30,
      p_paid_60: i.p_paid_60,
      p_paid_90: i.p_paid_90,
    })),
  };
}

/** Forecast of the organisation's open invoices as of `asOf` (base currency first). */
export async function forecastForOrg(db: Db, org: Organisation, asOf: IsoDate): Promise<CurrencyForecast[]> {
  return forecastOrganisation(await loadMonitorInput(db, org, undefined, asOf), asOf);
}

const cache = new Map<string, CurrencyForecast[]>();

/**
 * Like forecastForOrg, reused while the ledger is unchanged (same organisation, day and ledger version): the
 * organisation page shows it on every visit.
 */
export async function cachedForecast(db: Db, org: Organisation, asOf: IsoDate): Promise<CurrencyForecast[]> {
  const key = `${org.id}|${asOf}|${await ledgerVersionOf(db, org.id)}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const f = await forecastForOrg(db, org, asOf);
  if (cache.size >= 50) cache.delete(cache.keys().next().value!);
  cache.set(key, f);
  return f;
}

/** Expected collections in the first `weeks` forecast weeks, and the part of it from the given customers. */
export function expectedSoon(
  f: CurrencyForecast,
  fromContacts: ReadonlySet<string>,
): { total: number; fromThese: number } {
  let total = 0;
  for (const w of f.weeks.slice(0, 4)) total += w.expected;
  let fromThese = 0;
  for (const i of f.invoices) if (fromContacts.has(i.contactId)) fromThese += i.amountMinor * i.pWithin4Weeks;
  return { total, fromThese: Math.round(fromThese) };
}
