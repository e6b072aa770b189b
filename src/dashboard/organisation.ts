/**
 * The organisation page's data (`/orgs/<slug>`, JSON at `/api/orgs/<slug>`): totals, aging, DSO and the
 * customers by risk (filtered and paged), from the whole-ledger summary cache and the stored scores; the page
 * adds the cash-in forecast and the last reconciliation. Reads only; the caller has already checked the user
 * may see the organisation.
 */
import type { Deps } from "../deps";
import { AGING_BUCKETS, type AgingBucket, dateInZone, formatMinor } from "../model";
import type { CurrencyForecast } from "../monitor/index";
import { cachedForecast } from "../scoring/forecast";
import { contactNames, contactsWithInvoiceNumber } from "../store/dashboard-customers";
import { atRisk, reasonsOf, riskAsOf } from "../store/dashboard-scores";
import { dashboardSummary } from "../store/dashboard-summary";
import type { Organisation } from "../store/orgs";
import { lastReconciliation, type StoredReconciliation } from "../store/reconcile";
import { toCsv } from "./csv";
import { trendWords } from "./trend-words";

export interface CustomerSummary {
  id: string;
  name: string;
  grade: string | null;
  score: number | null;
  trend: string | null;
  /** The trend's change in days beyond terms (+ later, - sooner), from the same judgement as the trend. */
  trend_change_days: number | null;
  reasons: string[];
  on_hold: boolean;
  currency: string;
  outstanding: number;
  overdue: number;
  buckets: Record<AgingBucket, number>;
  oldest_overdue_days: number;
}

interface CustomerFilters {
  q?: string;
  grade?: string;
  trend?: string;
  overdue?: boolean;
  risk?: boolean;
}

const PAGE_SIZE = 100;

/**
 * Every customer of the risk list that matches the filters, riskiest first, without reasons (`withReasons`
 * fills them in for the rows asked), and the whole-ledger figures they came from.
 */
async function riskList(deps: Deps, org: Organisation, filters: CustomerFilters) {
  const { db } = deps.store;
  const now = deps.clock.now(); // read once: the as-of date and the cache's computed_at agree
  const asOf = dateInZone(now, org.timezone);
  // Whole-ledger figures from the summary cache (computed and stored on a miss); scores read live.
  const [summary, scored] = await Promise.all([
    dashboardSummary(deps.store, org, asOf, now),
    riskAsOf(db, org.id, asOf),
  ]);
  const aging = summary.customers;
  const empty = emptyBuckets;
  const seen = new Set<string>();
  // Reasons are read for the page shown only; each summary remembers its contact for that.
  const contactOf = new Map<CustomerSummary, string>();
  const rows: CustomerSummary[] = aging.map((a) => {
    seen.add(a.contactId);
    const s = scored.get(a.contactId);
    const row: CustomerSummary = {
      id: a.externalId,
      name: a.name,
      grade: s?.grade ?? null,
      score: s?.score ?? null,
      trend: s?.trend ?? null,
      trend_change_days: s?.trendChangeDays ?? null,
      reasons: [],
      on_hold: a.holdState === "on_hold",
      currency: a.currency,
      outstanding: a.outstandingMinor,
      overdue: a.overdueMinor,
      buckets: a.buckets,
      oldest_overdue_days: a.oldestOverdueDays,
    };
    contactOf.set(row, a.contactId);
    return row;
  });
  // At-risk customers who owe nothing right now still belong on the list.
  if (scored.size > 0) {
    const missing = [...scored.values()].filter((s) => !seen.has(s.contactId) && atRisk(s));
    if (missing.length > 0) {
      const byId = await contactNames(
        db,
        org.id,
        missing.map((s) => s.contactId),
      );
      for (const s of missing) {
        const c = byId.get(s.contactId);
        if (!c) continue;
        const row: CustomerSummary = {
          id: c.external_id,
          name: c.name,
          grade: s.grade,
          score: s.score,
          trend: s.trend,
          trend_change_days: s.trendChangeDays,
          reasons: [],
          on_hold: c.hold_state === "on_hold",
          currency: org.baseCurrency,
          outstanding: 0,
          overdue: 0,
          buckets: empty(),
          oldest_overdue_days: 0,
        };
        contactOf.set(row, s.contactId);
        rows.push(row);
      }
    }
  }
  // Riskiest first: lowest score, then most overdue; unscored customers after scored ones.
  rows.sort(
    (a, b) =>
      (a.score ?? 1e9) - (b.score ?? 1e9) ||
      b.overdue - a.overdue ||
      b.outstanding - a.outstanding ||
      (a.id < b.id ? -1 : 1),
  );
  // Search: a name or id containing the text, or an invoice number containing it.
  const q = filters.q?.trim().toLowerCase();
  const byInvoice = q ? await contactsWithInvoiceNumber(db, org.id, q) : new Set<string>();
  const filtered = rows.filter(
    (r) =>
      (!q ||
        r.name.toLowerCase().includes(q) ||
        r.id.toLowerCase().includes(q) ||
        byInvoice.has(contactOf.get(r)!)) &&
      (!filters.grade || r.grade === filters.grade) &&
      (!filters.trend || r.trend === filters.trend) &&
      (!filters.overdue || r.overdue > 0) &&
      (!filters.risk || r.grade === "D" || r.grade === "E" || r.trend === "deteriorating"),
  );
  const run = [...scored.values()][0]?.asOf ?? null;
  /** Fills in the reasons of these rows (the latest scoring run's). */
  const withReasons = async (some: CustomerSummary[]) => {
    if (!run) return some;
    const ids = some.filter((r) => r.score !== null).map((r) => contactOf.get(r)!);
    const reasons = await reasonsOf(db, org.id, run, ids);
    for (const r of some) r.reasons = reasons.get(contactOf.get(r)!) ?? [];
    return some;
  };
  return { asOf, summary, run, filtered, withReasons };
}

/** Open balances by days past due, one set of buckets per currency (the base currency first, always present). */
function agingByCurrency(
  summary: Awaited<ReturnType<typeof dashboardSummary>>,
  baseCurrency: string,
): { currency: string; buckets: Record<AgingBucket, number> }[] {
  const by = new Map<string, Record<AgingBucket, number>>();
  for (const a of summary.customers) {
    const b = by.get(a.currency) ?? emptyBuckets();
    by.set(a.currency, b);
    for (const k of AGING_BUCKETS) b[k] += a.buckets[k];
  }
  if (!by.has(baseCurrency)) by.set(baseCurrency, emptyBuckets());
  return [...by.entries()]
    .sort(([a], [b]) => (a === baseCurrency ? -1 : b === baseCurrency ? 1 : a < b ? -1 : 1))
    .map(([currency, buckets]) => ({ currency, buckets }));
}

const emptyBuckets = (): Record<AgingBucket, number> => ({
  current: 0,
  "1-30": 0,
  "31-60": 0,
  "61-90": 0,
  "90+": 0,
});

export async function organisation(deps: Deps, org: Organisation, filters: CustomerFilters, page = 1) {
  const { asOf, summary, run, filtered, withReasons } = await riskList(deps, org, filters);
  const dso = summary.dso;
  const totals = summary.totals.map((t) => ({
    currency: t.currency,
    outstanding: t.outstandingMinor,
    overdue: t.overdueMinor,
    customers: t.customers,
  }));
  const agingAll = agingByCurrency(summary, org.baseCurrency);
  const pages = Math.max(1, Math.ceil(filtered.length / PAGE_SIZE));
  const p = Math.min(Math.max(1, page), pages);
  const shown = await withReasons(filtered.slice((p - 1) * PAGE_SIZE, p * PAGE_SIZE));
  return {
    org: {
      slug: org.slug,
      name: org.name,
      timezone: org.timezone,
      base_currency: org.baseCurrency,
      is_demo: org.isDemo,
    },
    as_of: asOf,
    scored_on: run,
    totals,
    /** The base currency's buckets (as before); `aging_by_currency` has every currency's. */
    aging: agingAll[0]!.buckets,
    aging_by_currency: agingAll,
    dso,
    customer_count: filtered.length,
    page: p,
    pages,
    customers: shown,
  };
}

type OrganisationView = Awaited<ReturnType<typeof organisation>>;

/** The organisation page: the view above, the base currency's cash-in forecast and the last reconciliation. */
export async function organisationPage(
  deps: Deps,
  org: Organisation,
  filters: CustomerFilters,
  page = 1,
): Promise<{
  view: OrganisationView;
  cashIn: CurrencyForecast | undefined;
  reconciliation: StoredReconciliation | undefined;
}> {
  const view = await organisation(deps, org, filters, page);
  const cashIn = (await cachedForecast(deps.store.db, org, view.as_of)).find(
    (x) => x.currency === org.baseCurrency,
  );
  return { view, cashIn, reconciliation: await lastReconciliation(deps.store.db, org.id) };
}

/**
 * The risk list as the CSV export has it: every customer matching the filters (not one page), with all
 * reasons, and the aging report per currency; the same figures as the page.
 */
export async function riskExport(deps: Deps, org: Organisation, filters: CustomerFilters) {
  const { asOf, summary, filtered, withReasons } = await riskList(deps, org, filters);
  const customers: CustomerSummary[] = [];
  for (let k = 0; k < filtered.length; k += 500)
    customers.push(...(await withReasons(filtered.slice(k, k + 500))));
  return { asOf, customers, aging: agingByCurrency(summary, org.baseCurrency) };
}

/** The risk list as CSV: the page's columns, every reason, money in major units beside its currency. */
export async function riskCsv(deps: Deps, org: Organisation, filters: CustomerFilters) {
  const { asOf, customers } = await riskExport(deps, org, filters);
  const header = [
    "grade",
    "score",
    "customer_id",
    "customer_name",
    "trend",
    "trend_change_days",
    "on_hold",
    "currency",
    "outstanding",
    "overdue",
    ...AGING_BUCKETS,
    "oldest_overdue_days",
    "main_reason",
    "all_reasons",
  ];
  const rows = customers.map((r) => [
    r.grade,
    r.score,
    r.id,
    r.name,
    r.trend,
    // The change only where it agrees with the trend's word (as on the page).
    trendWords(r.trend, r.trend_change_days)?.change ? r.trend_change_days : null,
    r.on_hold,
    r.currency,
    formatMinor(r.outstanding, r.currency),
    formatMinor(r.overdue, r.currency),
    ...AGING_BUCKETS.map((b) => formatMinor(r.buckets[b], r.currency)),
    r.oldest_overdue_days,
    r.reasons[0] ?? "",
    r.reasons.join("; "),
  ]);
  return { asOf, csv: toCsv(header, rows) };
}

/**
 * The aging report as CSV: each customer with an open balance (by name), its balance by days past due in its
 * currency, then one total row per currency; the same figures as the page's aging charts.
 */
export async function agingCsv(deps: Deps, org: Organisation) {
  const { asOf, customers, aging } = await riskExport(deps, org, {});
  const header = ["customer_id", "customer_name", "currency", ...AGING_BUCKETS, "total"];
  const owing = customers
    .filter((r) => r.outstanding !== 0)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : 1));
  const rows = [
    ...owing.map((r) => [
      r.id,
      r.name,
      r.currency,
      ...AGING_BUCKETS.map((b) => formatMinor(r.buckets[b], r.currency)),
      formatMinor(r.outstanding, r.currency),
    ]),
    ...aging.map((a) => [
      "",
      `Total ${a.currency}`,
      a.currency,
      ...AGING_BUCKETS.map((b) => formatMinor(a.buckets[b], a.currency)),
      formatMinor(
        AGING_BUCKETS.reduce((n, b) => n + a.buckets[b], 0),
        a.currency,
      ),
    ]),
  ];
  return { asOf, csv: toCsv(header, rows) };
}
