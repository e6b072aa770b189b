/**
 * Cash-in forecast (issue 18): when will each open invoice be paid, and how much comes in each week.
 *
 * Per customer, a distribution of payment delay D (signed days beyond the due date):
 * - the customer's own last `historyObs` settled invoices (as known on asOf), each one atom, shrunk toward the
 *   organisation with `pseudo` pseudo-invoices spread over `orgQuantiles` quantiles of the delays of every
 *   invoice the organisation settled that fell due in the 365 days before asOf (a new customer gets the
 *   organisation's distribution);
 * - a heavy tail beyond the latest atom (weight `tailWeight`, Lomax with scale `tailScale` days and shape
 *   `tailAlpha`), for invoices paid later than anything seen, or never. An invoice already far more overdue
 *   than anything seen keeps being paid slowly: the older it is, the slower (Lomax's conditional scale grows).
 *
 * An open invoice is still unpaid on asOf, `e` = asOf - due days (negative while not yet due): its payment delay
 * is D conditioned on D > e. From that: P(paid within 30/60/90 days of asOf), and `expected_date`, the median
 * payment date (as likely before as after it; the median is what minimises the error in days). Weekly expected
 * collections (13 weeks from the day after asOf, per currency) are the sums of amount due x P(paid that week),
 * exact; the 10th-90th percentile band comes from `sims` seeded simulations in which a customer's invoices share
 * part of their luck (correlation `rho` on the normal scale: customers pay several invoices in one run).
 *
 * Pure and deterministic: the same ledger and asOf give the same forecast (the simulation's seed is fixed), and
 * it reads only the ledger as it stood on asOf (as-of.ts), so the full ledger as of D forecasts exactly like the
 * ledger truncated at D. Amounts are minor units of each invoice's own currency; currencies are never added.
 */
import { isoOfDay } from "../days";
import type { IsoDate } from "../model";
import type { OrgInput } from "../model/monitor";
import { type InvoiceAsOf, type LedgerAsOf, restrictToAsOf } from "./as-of";
import { withinHorizon } from "./horizon";
import { mulberry32 } from "./prng";

export interface ForecastOptions {
  historyObs: number;
  pseudo: number;
  orgQuantiles: number;
  tailWeight: number;
  tailScale: number;
  tailAlpha: number;
  weeks: number;
  sims: number;
  rho: number;
  seed: number;
}

export const DEFAULT_FORECAST_OPTIONS: ForecastOptions = {
  historyObs: 24,
  pseudo: 3,
  orgQuantiles: 40,
  tailWeight: 0.01,
  tailScale: 30,
  tailAlpha: 1.5,
  weeks: 13,
  sims: 400,
  rho: 0.6,
  seed: 20_180_601,
};

/** One open invoice's forecast. Snake-case fields are the public `forecast --json` interface. */
export interface InvoiceForecast {
  invoice_number: string;
  customer_id: string;
  expected_date: IsoDate;
  p_paid_30: number;
  p_paid_60: number;
  p_paid_90: number;
  /** Not printed: the store ids, amount due and currency, for callers that aggregate. */
  invoiceId: string;
  contactId: string;
  currency: string;
  amountMinor: number;
  /** P(paid in the first 4 forecast weeks): the invoice's share of the 4-week expectation. */
  pWithin4Weeks: number;
}

export interface WeekForecast {
  /** First day of the week (the weeks run from the day after asOf, 7 days each). */
  week_start: IsoDate;
  /** Expected collections that week, minor units. */
  expected: number;
  /** 10th and 90th percentiles of that week's collections. */
  p10: number;
  p90: number;
}

export interface CurrencyForecast {
  currency: string;
  weeks: WeekForecast[];
  invoices: InvoiceForecast[];
}

/** A delay distribution: atoms (ascending days, weights) and a Lomax tail beyond the last atom. */
export interface DelayDistribution {
  days: Float64Array;
  /** suffix[j] = weight of atoms j.. (suffix[n] = 0). */
  suffix: Float64Array;
  tail: number;
  /** Where the tail starts (the last atom, or 0 with none). */
  tailFrom: number;
  scale: number;
  alpha: number;
}

/** Index of the first atom > x (binary search; days.length when none). */
function firstAbove(days: Float64Array, x: number): number {
  let lo = 0;
  let hi = days.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (days[mid]! > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** P(D > x). */
export function survival(dist: DelayDistribution, x: number): number {
  const { days, suffix } = dist;
  const lo = firstAbove(days, x);
  const tail =
    x < dist.tailFrom ? dist.tail : dist.tail * (1 + (x - dist.tailFrom) / dist.scale) ** -dist.alpha;
  return suffix[lo]! + tail;
}

/** The smallest whole x > e with P(D <= x | D > e) >= u (u in (0, 1)). */
export function conditionalQuantile(dist: DelayDistribution, e: number, u: number): number {
  const target = survival(dist, e) * (1 - u);
  const { days } = dist;
  // Atoms first: the first atom index j with days[j] > e where survival after it drops to <= target.
  for (let j = firstAbove(days, e); j < days.length; j++) {
    const d = days[j]!;
    // Atoms are few (at most historyObs + orgQuantiles): a linear walk.
    if (survival(dist, d) <= target + 1e-15) return Math.max(Math.floor(e) + 1, Math.ceil(d));
  }
  // In the tail: solve tail * (1 + (x - from) / scale)^-alpha = target.
  if (dist.tail <= 0 || target <= 0) return Math.max(Math.floor(e) + 1, 100_000);
  const x = dist.tailFrom + dist.scale * ((dist.tail / target) ** (1 / dist.alpha) - 1);
  return Math.max(Math.floor(e) + 1, Math.ceil(x));
}

/** Builds a distribution from weighted atoms (need not be sorted) and a tail weight. */
export function distribution(
  atoms: readonly { day: number; weight: number }[],
  tail: number,
  o: Pick<ForecastOptions, "tailScale" | "tailAlpha">,
): DelayDistribution {
  const sorted = [...atoms].sort((a, b) => a.day - b.day);
  const n = sorted.length;
  const days = new Float64Array(n);
  const suffix = new Float64Array(n + 1);
  for (let j = 0; j < n; j++) days[j] = sorted[j]!.day;
  for (let j = n - 1; j >= 0; j--) suffix[j] = suffix[j + 1]! + sorted[j]!.weight;
  const total = suffix[0]! + tail;
  if (total > 0) {
    for (let j = 0; j <= n; j++) suffix[j] = suffix[j]! / total;
  }
  return {
    days,
    suffix,
    tail: total > 0 ? tail / total : 1,
    tailFrom: n > 0 ? days[n - 1]! : 0,
    scale: o.tailScale,
    alpha: o.tailAlpha,
  };
}

/** Standard normal CDF (Abramowitz-Stegun 7.1.26 via erf, |error| < 1.5e-7). */
function phi(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}

const round4 = (p: number): number => Math.round(p * 10_000) / 10_000;

/** FNV-1a hash of a string (seeds a customer's simulation stream). */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Settled delay of an invoice (null when it says nothing about paying habits or is open). */
function delayOf(inv: InvoiceAsOf): number | null {
  if (inv.settledDay === null || inv.creditedOnly || inv.settledUndated) return null;
  return inv.settledDay - inv.dueDay;
}

/** The forecast of every open invoice, per currency (base currency first, then alphabetical). */
export function forecastLedger(
  ledger: LedgerAsOf,
  options: ForecastOptions = DEFAULT_FORECAST_OPTIONS,
): CurrencyForecast[] {
  const o = options;
  const asOfDay = ledger.asOfDay;

  // Organisation distribution: delays of invoices settled that fell due in the 365 days before asOf.
  const orgDelays: number[] = [];
  for (const invoices of ledger.invoicesByContact.values()) {
    for (const inv of invoices) {
      if (inv.dueDay >= asOfDay || inv.dueDay < asOfDay - 365) continue;
      const d = delayOf(inv);
      if (d !== null) orgDelays.push(d);
    }
  }
  if (orgDelays.length === 0) {
    for (const invoices of ledger.invoicesByContact.values()) {
      for (const inv of invoices) {
        const d = delayOf(inv);
        if (d !== null) orgDelays.push(d);
      }
    }
  }
  orgDelays.sort((a, b) => a - b);
  const orgAtoms: number[] = [];
  if (orgDelays.length > 0) {
    const q = Math.min(o.orgQuantiles, orgDelays.length);
    for (let j = 0; j < q; j++) orgAtoms.push(orgDelays[Math.floor(((j + 0.5) * orgDelays.length) / q)]!);
  } else orgAtoms.push(0);

  interface Open {
    inv: InvoiceAsOf;
    customer: number;
    dist: DelayDistribution;
    e: number;
    s0: number;
    out: InvoiceForecast;
  }
  const byCurrency = new Map<string, Open[]>();
  let customerIndex = 0;
  for (const contact of ledger.contacts) {
    const invoices = ledger.invoicesByContact.get(contact.id) ?? [];
    const open = invoices.filter((i) => i.dueMinor > 0 && !i.settledUndated);
    if (open.length === 0) continue;
    const own: number[] = [];
    const settled = invoices
      .filter((i) => delayOf(i) !== null)
      .sort((a, b) => a.settledDay! - b.settledDay! || a.dueDay - b.dueDay);
    for (const inv of settled.slice(-o.historyObs)) own.push(delayOf(inv)!);
    const n = own.length;
    const atoms = [
      ...own.map((day) => ({ day, weight: 1 / (n + o.pseudo) })),
      ...orgAtoms.map((day) => ({ day, weight: o.pseudo / (n + o.pseudo) / orgAtoms.length })),
    ];
    const dist = distribution(atoms, (o.tailWeight / (1 - o.tailWeight)) * 1, o);
    const ci = customerIndex++;
    for (const inv of open) {
      const e = asOfDay - inv.dueDay;
      const s0 = survival(dist, e);
      const within = (t: number) => (s0 > 0 ? 1 - survival(dist, e + t) / s0 : 0);
      const median = conditionalQuantile(dist, e, 0.5);
      const out: InvoiceForecast = {
        invoice_number: inv.number,
        customer_id: contact.externalId,
        expected_date: isoOfDay(inv.dueDay + median),
        p_paid_30: round4(within(30)),
        p_paid_60: round4(within(60)),
        p_paid_90: round4(within(90)),
        invoiceId: inv.id,
        contactId: contact.id,
        currency: inv.currency,
        amountMinor: inv.dueMinor,
        pWithin4Weeks: within(28),
      };
      let list = byCurrency.get(inv.currency);
      if (!list) {
        list = [];
        byCurrency.set(inv.currency, list);
      }
      list.push({ inv, customer: ci, dist, e, s0, out });
    }
  }

  const currencies = [...byCurrency.keys()].sort((a, b) =>
    a === ledger.baseCurrency ? -1 : b === ledger.baseCurrency ? 1 : a < b ? -1 : a > b ? 1 : 0,
  );
  if (currencies.length === 0) currencies.push(ledger.baseCurrency);
  const W = o.weeks;
  const weekStart = (k: number): IsoDate => isoOfDay(asOfDay + 1 + 7 * k);

  return currencies.map((currency) => {
    const list = byCurrency.get(currency) ?? [];
    // Expected per week, exactly: amount x P(asOf + 7k + 1 <= payment day <= asOf + 7k + 7 | unpaid on asOf).
    const expected = new Float64Array(W);
    for (const x of list) {
      if (x.s0 <= 0) continue;
      let prev = 1;
      for (let k = 0; k < W; k++) {
        const s = survival(x.dist, x.e + 7 * (k + 1)) / x.s0;
        expected[k]! += x.inv.dueMinor * (prev - s);
        prev = s;
      }
    }
    // Band: seeded simulations, a customer's invoices sharing part of their luck. Each customer draws from its
    // own stream, seeded from its customer id, and its invoices in (due date, number) order, so the result does
    // not depend on store ids or row order.
    const sims = Array.from({ length: W }, () => new Float64Array(o.sims));
    const own = Math.sqrt(1 - o.rho * o.rho);
    const groups = new Map<number, Open[]>();
    for (const x of list) {
      const g = groups.get(x.customer);
      if (g) g.push(x);
      else groups.set(x.customer, [x]);
    }
    for (const g of groups.values()) {
      g.sort(
        (a, b) =>
          a.inv.dueDay - b.inv.dueDay ||
          (a.inv.number < b.inv.number ? -1 : a.inv.number > b.inv.number ? 1 : 0),
      );
      const rnd = mulberry32(o.seed ^ hash(g[0]!.out.customer_id));
      const gauss = (): number => {
        const u = Math.max(1e-12, rnd());
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd());
      };
      for (let r = 0; r < o.sims; r++) {
        const zc = gauss();
        for (const x of g) {
          const u = Math.min(1 - 1e-9, Math.max(1e-9, phi(o.rho * zc + own * gauss())));
          const delay = conditionalQuantile(x.dist, x.e, u);
          const k = Math.floor((x.inv.dueDay + delay - asOfDay - 1) / 7);
          if (k >= 0 && k < W) sims[k]![r]! += x.inv.dueMinor;
        }
      }
    }
    const weeks: WeekForecast[] = [];
    for (let k = 0; k < W; k++) {
      const v = sims[k]!.sort();
      const at = (q: number) => v[Math.min(v.length - 1, Math.floor(q * v.length))] ?? 0;
      weeks.push({
        week_start: weekStart(k),
        expected: Math.round(expected[k]!),
        p10: Math.round(at(0.1)),
        p90: Math.round(at(0.9)),
      });
    }
    return {
      currency,
      weeks,
      invoices: list
        .map((x) => x.out)
        .sort(
          (a, b) =>
            (a.expected_date < b.expected_date ? -1 : a.expected_date > b.expected_date ? 1 : 0) ||
            (a.invoice_number < b.invoice_number ? -1 : a.invoice_number > b.invoice_number ? 1 : 0),
        ),
    };
  });
}

/** Forecast of an organisation's open invoices as of `asOf` (nothing after it is seen). */
export function forecastOrganisation(
  input: OrgInput,
  asOf: IsoDate,
  options: ForecastOptions = DEFAULT_FORECAST_OPTIONS,
): CurrencyForecast[] {
  return forecastLedger(restrictToAsOf(withinHorizon(input, asOf), asOf), options);
}
