/**
 * Per-customer features as of a date, from the ledger as it stood that day (as-of.ts).
 *
 * Observations of paying behaviour are signed days beyond terms (settlement date - due date; negative = early),
 * one per invoice, ordered by due date:
 * - a settled invoice gives its exact value (invoices cancelled by credit notes alone are left out);
 * - an open invoice already past due gives a censored value, "at least N days late" (N = days overdue on asOf).
 *   It is never treated as missing: averages use N as a lower bound and it counts as paid late.
 * Open invoices not yet due say nothing yet and are left out.
 *
 * Currency: days are currency-free. Amounts are reported in the customer's reporting currency: the currency of
 * most of the customer's invoices as of asOf (ties: the organisation's base currency, then alphabetical); with
 * no invoices, the base currency. `outstandingMinor` / `overdueMinor` and the aging buckets count only invoices
 * in that currency; other currencies are listed apart in `otherCurrencies`. Different currencies are never added.
 * Unapplied credit notes in the reporting currency reduce `outstandingMinor` (not below 0), not `overdueMinor`.
 * The credit limit is taken to be in the base currency: utilisation is only computed when the reporting
 * currency is the base currency.
 */
import { AGING_BUCKETS, type AgingBucket, agingBucketOfDays, type IsoDate } from "../model";
import type { MonitorContact } from "../model/monitor";
import { cmp, type InvoiceAsOf, type LedgerAsOf } from "./as-of";

/** Weight of each older observation relative to the next newer one in recency-weighted averages. */
export const RECENCY_DECAY = 0.9;

export interface Observation {
  invoiceId: string;
  dueDate: IsoDate;
  dueDay: number;
  /** Settlement date, or null when censored (open and overdue). */
  settledOn: IsoDate | null;
  /** Signed days beyond terms; for a censored observation, the lower bound (days overdue on asOf). */
  daysBeyondTerms: number;
  censored: boolean;
  currency: string;
  totalMinor: number;
}

export interface CurrencyExposure {
  currency: string;
  outstandingMinor: number;
  overdueMinor: number;
  openCount: number;
  overdueCount: number;
}

export interface CustomerFeatures {
  contactId: string;
  asOf: IsoDate;
  /** Settled and censored observations, ordered by due date (then settlement, then id). */
  observations: Observation[];
  settledCount: number;
  censoredCount: number;
  /** Valid invoices issued on or before asOf. */
  invoiceCount: number;
  firstIssueDate: IsoDate | null;
  /** Days from the first invoice to asOf (0 without invoices). */
  historyDays: number;
  /** Plain mean over observations (censored ones at their lower bound); null without observations. */
  meanDaysBeyondTerms: number | null;
  /** Weighted by invoice amount relative to the customer's median amount in the same currency. */
  amountWeightedDaysBeyondTerms: number | null;
  /** Exponentially weighted, newest observation weight 1, each older one x RECENCY_DECAY. */
  recencyWeightedDaysBeyondTerms: number | null;
  /** Mean of max(0, days beyond terms): how late, counting on-time as 0. */
  averageDaysDelinquent: number | null;
  /** Share of observations paid late (censored ones are late by definition). */
  shareLate: number | null;
  /** Share of invoices with a payment history that were paid in more than one instalment or are part-paid. */
  partialPaymentShare: number | null;
  /** Invoices with any payment (the denominator of partialPaymentShare). */
  paidWithPaymentCount: number;
  currency: string;
  outstandingMinor: number;
  overdueMinor: number;
  overdueCount: number;
  openCount: number;
  oldestOverdueDays: number;
  buckets: Record<AgingBucket, number>;
  unappliedCreditMinor: number;
  otherCurrencies: CurrencyExposure[];
  creditLimitMinor: number | null;
  /** outstanding / credit limit, when both are in the base currency and a positive limit is set. */
  creditUtilisation: number | null;
}

/** Chooses the customer's reporting currency (see the module comment). */
export function reportingCurrency(invoices: readonly InvoiceAsOf[], baseCurrency: string): string {
  if (invoices.length === 0) return baseCurrency;
  const first = invoices[0]!.currency;
  if (invoices.every((inv) => inv.currency === first)) return first;
  const counts = new Map<string, number>();
  for (const inv of invoices) counts.set(inv.currency, (counts.get(inv.currency) ?? 0) + 1);
  let best = baseCurrency;
  let bestCount = counts.get(baseCurrency) ?? 0;
  for (const [cur, n] of [...counts.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    if (n > bestCount) {
      best = cur;
      bestCount = n;
    }
  }
  return best;
}

/** Observations of one customer's paying behaviour as of `asOfDay` (see the module comment). */
export function observationsOf(invoices: readonly InvoiceAsOf[], asOfDay: number): Observation[] {
  const obs: Observation[] = [];
  for (const inv of invoices) {
    if (inv.settledDay !== null && inv.settledOn !== null) {
      if (inv.creditedOnly) continue;
      obs.push({
        invoiceId: inv.id,
        dueDate: inv.dueDate,
        dueDay: inv.dueDay,
        settledOn: inv.settledOn,
        daysBeyondTerms: inv.settledDay - inv.dueDay,
        censored: false,
        currency: inv.currency,
        totalMinor: inv.totalMinor,
      });
    } else if (!inv.settledUndated && inv.dueMinor > 0 && inv.dueDay < asOfDay) {
      obs.push({
        invoiceId: inv.id,
        dueDate: inv.dueDate,
        dueDay: inv.dueDay,
        settledOn: null,
        daysBeyondTerms: asOfDay - inv.dueDay,
        censored: true,
        currency: inv.currency,
        totalMinor: inv.totalMinor,
      });
    }
  }
  obs.sort(
    (a, b) =>
      a.dueDay - b.dueDay ||
      cmp(a.settledOn ?? "9999", b.settledOn ?? "9999") ||
      cmp(a.invoiceId, b.invoiceId),
  );
  return obs;
}

/**
 * Features of one customer as of `ledger.asOf`. `observations`: its observationsOf, when the caller already has
 * them.
 */
export function customerFeatures(
  ledger: LedgerAsOf,
  contact: MonitorContact,
  known?: Observation[],
): CustomerFeatures {
  const invoices = ledger.invoicesByContact.get(contact.id) ?? [];
  const { asOfDay, asOf } = ledger;
  const observations = known ?? observationsOf(invoices, asOfDay);
  const currency = reportingCurrency(invoices, ledger.baseCurrency);

  // Behaviour statistics.
  let sum = 0;
  let delinquent = 0;
  let late = 0;
  let ewSum = 0;
  let ewW = 0;
  let awSum = 0;
  let awW = 0;
  const medians = medianAmountByCurrency(observations);
  let censoredCount = 0;
  for (const o of observations) {
    const x = o.daysBeyondTerms;
    if (o.censored) censoredCount++;
    sum += x;
    delinquent += Math.max(0, x);
    if (o.censored || x > 0) late++;
    ewSum = ewSum * RECENCY_DECAY + x;
    ewW = ewW * RECENCY_DECAY + 1;
    const w = o.totalMinor / (medians.get(o.currency) ?? o.totalMinor);
    awSum += w * x;
    awW += w;
  }
  const n = observations.length;

  // Partial payments: among invoices with any payment, those paid in instalments or still part-paid.
  let withPayment = 0;
  let partial = 0;
  for (const inv of invoices) {
    if (inv.paidMinor <= 0) continue;
    withPayment++;
    if (inv.paymentCount > 1 || inv.dueMinor > 0) partial++;
  }

  // Exposure.
  const exposure = new Map<string, CurrencyExposure>();
  const buckets = Object.fromEntries(AGING_BUCKETS.map((b) => [b, 0])) as Record<AgingBucket, number>;
  let oldestOverdueDays = 0;
  for (const inv of invoices) {
    if (inv.dueMinor <= 0) continue;
    let e = exposure.get(inv.currency);
    if (!e) {
      e = { currency: inv.currency, outstandingMinor: 0, overdueMinor: 0, openCount: 0, overdueCount: 0 };
      exposure.set(inv.currency, e);
    }
    e.outstandingMinor += inv.dueMinor;
    e.openCount++;
    const daysLate = asOfDay - inv.dueDay;
    if (daysLate > 0) {
      e.overdueMinor += inv.dueMinor;
      e.overdueCount++;
    }
    if (inv.currency === currency) {
      buckets[agingBucketOfDays(daysLate)] += inv.dueMinor;
      if (daysLate > oldestOverdueDays) oldestOverdueDays = daysLate;
    }
  }
  const own = exposure.get(currency);
  const unappliedCreditMinor =
    ledger.creditsByContact.get(contact.id)?.find((c) => c.currency === currency)?.unappliedMinor ?? 0;
  const outstandingMinor = Math.max(0, (own?.outstandingMinor ?? 0) - unappliedCreditMinor);
  const otherCurrencies = [...exposure.values()]
    .filter((e) => e.currency !== currency)
    .sort((a, b) => (a.currency < b.currency ? -1 : 1));

  const creditLimitMinor = contact.creditLimitMinor ?? null;
  const creditUtilisation =
    creditLimitMinor !== null && creditLimitMinor > 0 && currency === ledger.baseCurrency
      ? outstandingMinor / creditLimitMinor
      : null;

  const first = invoices[0];
  return {
    contactId: contact.id,
    asOf,
    observations,
    settledCount: n - censoredCount,
    censoredCount,
    invoiceCount: invoices.length,
    firstIssueDate: first?.issueDate ?? null,
    historyDays: first ? asOfDay - first.issueDay : 0,
    meanDaysBeyondTerms: n ? sum / n : null,
    amountWeightedDaysBeyondTerms: awW > 0 ? awSum / awW : null,
    recencyWeightedDaysBeyondTerms: ewW > 0 ? ewSum / ewW : null,
    averageDaysDelinquent: n ? delinquent / n : null,
    shareLate: n ? late / n : null,
    partialPaymentShare: withPayment ? partial / withPayment : null,
    paidWithPaymentCount: withPayment,
    currency,
    outstandingMinor,
    overdueMinor: own?.overdueMinor ?? 0,
    overdueCount: own?.overdueCount ?? 0,
    openCount: own?.openCount ?? 0,
    oldestOverdueDays,
    buckets,
    unappliedCreditMinor,
    otherCurrencies,
    creditLimitMinor,
    creditUtilisation,
  };
}

/** Median invoice amount per currency (the upper median; at least 1). */
function medianAmountByCurrency(obs: readonly Observation[]): Map<string, number> {
  const out = new Map<string, number>();
  const only = obs[0]?.currency;
  if (only === undefined) return out;
  if (obs.every((o) => o.currency === only)) {
    const amounts: number[] = new Array(obs.length);
    for (let i = 0; i < obs.length; i++) amounts[i] = obs[i]!.totalMinor;
    out.set(only, upperMedian(amounts));
    return out;
  }
  const by = new Map<string, number[]>();
  for (const o of obs) {
    let l = by.get(o.currency);
    if (!l) {
      l = [];
      by.set(o.currency, l);
    }
    l.push(o.totalMinor);
  }
  for (const [cur, l] of by) out.set(cur, upperMedian(l));
  return out;
}

/**
 * Sorts `amounts` (whole minor units) in place, short lists by insertion (the same order as a numeric sort); a
 * plain array: a typed array per customer cost more to allocate than the rest.
 */
function upperMedian(amounts: number[]): number {
  if (amounts.length > 64) amounts.sort(ascending);
  else
    for (let i = 1; i < amounts.length; i++) {
      const x = amounts[i]!;
      let j = i - 1;
      while (j >= 0 && amounts[j]! > x) {
        amounts[j + 1] = amounts[j]!;
        j--;
      }
      amounts[j + 1] = x;
    }
  return Math.max(1, amounts[Math.floor(amounts.length / 2)] ?? 1);
}

const ascending = (a: number, b: number): number => a - b;
