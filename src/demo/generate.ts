/**
 * The demo ledger: a realistic two-year receivables history for a fictional UK organisation, generated from
 * a seed. Each customer follows a behaviour profile (reliable, early, slow but steady, chronically late,
 * deteriorating from some month on, defaulting) and the generator returns that ground truth beside the
 * canonical records, so tests of the monitor can check it finds what was planted.
 *
 * PURE: no clock (the ledger's "today" is `asOf`), no Math.random, no I/O. The same options give
 * deep-equal output.
 */
import {
  type CanonicalContact,
  type CanonicalCreditNote,
  type CanonicalInvoice,
  type CanonicalPayment,
  currencyExponent,
  type IsoDate,
  isCurrencyCode,
  isIsoDate,
} from "../model";
import {
  addDays,
  addMonths,
  daysFrom,
  endOfMonth,
  maxDate,
  monthOf,
  nextBusinessDay,
  previousBusinessDay,
  startOfMonth,
} from "./calendar";
import { createIdentityMaker, type Locale, organisationName } from "./names";
import { createRandom, type Random } from "./random";

export const DEMO_PROFILES = [
  "reliable",
  "early",
  "slow_steady",
  "chronic_late",
  "deteriorating",
  "defaulting",
] as const;
export type DemoProfile = (typeof DEMO_PROFILES)[number];

export const DEMO_PAYMENT_TERMS = ["net7", "net14", "net30", "net60", "eom"] as const;
/** Net N days from the issue date, or "eom": the end of the month following the issue month. */
export type DemoPaymentTerms = (typeof DEMO_PAYMENT_TERMS)[number];

export type DemoTruth = {
  contactExternalId: string;
  profile: DemoProfile;
  /** For deteriorating and defaulting customers, the date behaviour changed; otherwise null. */
  changesOn: IsoDate | null;
};

export type DemoOrganisation = {
  name: string;
  baseCurrency: string;
  timezone: "Europe/London";
  country: "GB";
};

export type DemoLedger = {
  organisation: DemoOrganisation;
  contacts: CanonicalContact[];
  invoices: CanonicalInvoice[];
  payments: CanonicalPayment[];
  creditNotes: CanonicalCreditNote[];
  truth: DemoTruth[];
};

export type GenerateDemoLedgerOptions = {
  /** Number of customers (default 60). */
  customers?: number;
  /** Seed; 1 and "1" give the same ledger (default 1). */
  seed?: number | string;
  /** The ledger's "today": nothing is issued or paid after it, and the history covers the two years before. */
  asOf: IsoDate;
  /** The organisation's currency (default "GBP"); most customers are billed in it. */
  baseCurrency?: string;
};

export const DEFAULT_DEMO_CUSTOMERS = 60;
export const MAX_DEMO_CUSTOMERS = 100_000;

/** Share of customers per profile; "reliable" takes whatever the others leave. */
const PROFILE_SHARE: Record<Exclude<DemoProfile, "reliable">, number> = {
  early: 0.15,
  slow_steady: 0.12,
  chronic_late: 0.08,
  deteriorating: 0.1,
  defaulting: 0.07,
};

/**
 * How many customers get each profile: about half reliable, 15% early, 12% slow but steady, 8% chronically
 * late, 10% deteriorating and 7% defaulting. Any ledger of two or more customers has at least one reliable
 * and one deteriorating customer.
 */
export function demoProfileMix(customers: number): Record<DemoProfile, number> {
  const mix: Record<DemoProfile, number> = {
    reliable: 0,
    early: Math.round(PROFILE_SHARE.early * customers),
    slow_steady: Math.round(PROFILE_SHARE.slow_steady * customers),
    chronic_late: Math.round(PROFILE_SHARE.chronic_late * customers),
    deteriorating: Math.round(PROFILE_SHARE.deteriorating * customers),
    defaulting: Math.round(PROFILE_SHARE.defaulting * customers),
  };
  if (customers >= 2) mix.deteriorating = Math.max(1, mix.deteriorating);
  // Keep at least one reliable customer, giving up the least essential profiles first.
  const yieldOrder = ["defaulting", "chronic_late", "slow_steady", "early", "deteriorating"] as const;
  for (const profile of yieldOrder) {
    while (customers - others(mix) < 1 && mix[profile] > (profile === "deteriorating" ? 1 : 0)) {
      mix[profile]--;
    }
  }
  mix.reliable = customers - others(mix);
  return mix;
}

function others(mix: Record<DemoProfile, number>): number {
  return mix.early + mix.slow_steady + mix.chronic_late + mix.deteriorating + mix.defaulting;
}

/** Invoicing activity by calendar month: busiest before Christmas, quiet in August and late December. */
const SEASON: Record<number, number> = {
  1: 0.85,
  2: 0.95,
  3: 1.05,
  4: 0.95,
  5: 1.0,
  6: 1.0,
  7: 0.9,
  8: 0.6,
  9: 1.05,
  10: 1.15,
  11: 1.3,
  12: 0.8,
};

/** Rough value of one unit of each currency in GBP terms, so a customer's invoices are similar in size. */
const UNITS_PER_GBP: Record<string, number> = { GBP: 1, EUR: 1.17, USD: 1.27 };

const LOCALE_BY_CURRENCY: Record<string, Locale> = { GBP: "gb", EUR: "fr", USD: "us" };

type CustomerPlan = {
  index: number;
  externalId: string;
  profile: DemoProfile;
  changesOn: IsoDate | null;
  currency: string;
  contact: CanonicalContact;
  terms: DemoPaymentTerms;
  /** First and last dates the customer is invoiced. */
  from: IsoDate;
  until: IsoDate;
  /** Typical invoice net amount, in major units of the customer's currency. */
  typicalNet: number;
  invoicesPerMonth: number;
  /** Billed a fixed monthly amount on a fixed day (plus occasional one-off invoices). */
  retainerDay: number | null;
  /** Pays several invoices in one remittance when they fall due together. */
  batchPayer: boolean;
  vatRate: number;
  rng: Random;
};

type InvoiceDraft = {
  customer: CustomerPlan;
  seq: number;
  issueDate: IsoDate;
  dueDate: IsoDate;
  totalMinor: number;
  isVoid: boolean;
  credited: boolean;
  externalId: string;
  number: string;
};

type PlannedAllocation = { invoice: InvoiceDraft; amountMinor: number; date: IsoDate };
type PlannedCredit = PlannedAllocation & { unallocatedMinor: number };

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

function validate(opts: GenerateDemoLedgerOptions): {
  customers: number;
  seed: string;
  baseCurrency: string;
} {
  if (typeof opts.asOf !== "string" || !isIsoDate(opts.asOf)) {
    throw new RangeError(`asOf must be a date written YYYY-MM-DD, got ${String(opts.asOf)}`);
  }
  const customers = opts.customers ?? DEFAULT_DEMO_CUSTOMERS;
  if (!Number.isInteger(customers) || customers < 1 || customers > MAX_DEMO_CUSTOMERS) {
    throw new RangeError(
      `customers must be a whole number from 1 to ${MAX_DEMO_CUSTOMERS}, got ${customers}`,
    );
  }
  const baseCurrency = opts.baseCurrency ?? "GBP";
  if (!/^[A-Z]{3}$/.test(baseCurrency) || !isCurrencyCode(baseCurrency)) {
    throw new RangeError(`baseCurrency must be an ISO 4217 code, got ${baseCurrency}`);
  }
  return { customers, seed: String(opts.seed ?? 1), baseCurrency };
}

/** Generates the demo organisation's ledger. Deterministic: same options, deep-equal result. */
export function generateDemoLedger(opts: GenerateDemoLedgerOptions): DemoLedger {
  const { customers, seed, baseCurrency } = validate(opts);
  const asOf = opts.asOf;
  const ledgerStart = addDays(addMonths(asOf, -24), 1);
  const root = createRandom(`creditpulse-demo/${seed}`);

  const plans = planCustomers(root.fork("customers"), customers, baseCurrency, ledgerStart, asOf);
  const drafts = plans.flatMap((plan) => draftInvoices(plan, ledgerStart, asOf));
  plantVoidsAndCredits(root.fork("plant"), drafts, asOf);
  numberInvoices(drafts);

  /** One inner list per payment: the allocations that remittance settles. */
  const remittances: PlannedAllocation[][] = [];
  const credits: PlannedCredit[] = [];
  const byCustomer = groupBy(drafts, (d) => d.customer.index);
  for (const plan of plans) {
    const settled = settle(plan, byCustomer.get(plan.index) ?? [], asOf);
    remittances.push(...settled.payments);
    credits.push(...settled.credits);
  }

  const paidByInvoice = new Map<InvoiceDraft, PlannedAllocation[]>();
  for (const group of remittances) {
    for (const a of group) pushTo(paidByInvoice, a.invoice, a);
  }
  const creditByInvoice = new Map<InvoiceDraft, PlannedCredit[]>();
  for (const c of credits) pushTo(creditByInvoice, c.invoice, c);

  const invoices = drafts.map((d) =>
    finishInvoice(d, paidByInvoice.get(d) ?? [], creditByInvoice.get(d) ?? []),
  );

  remittances.sort(
    (a, b) => cmp(a[0]!.date, b[0]!.date) || a[0]!.invoice.customer.index - b[0]!.invoice.customer.index,
  );
  const payments: CanonicalPayment[] = remittances.map((group, i) => {
    const first = group[0]!;
    return {
      externalId: `demo-payment-${pad(i + 1, 6)}`,
      contactExternalId: first.invoice.customer.externalId,
      date: first.date,
      currency: first.invoice.customer.currency,
      amountMinor: group.reduce((sum, a) => sum + a.amountMinor, 0),
      allocations: group.map((a) => ({
        invoiceExternalId: a.invoice.externalId,
        amountMinor: a.amountMinor,
        date: a.date,
      })),
    };
  });

  credits.sort((a, b) => cmp(a.date, b.date) || cmp(a.invoice.number, b.invoice.number));
  const creditNotes: CanonicalCreditNote[] = credits.map((c, i) => ({
    externalId: `demo-credit-note-${pad(i + 1, 6)}`,
    contactExternalId: c.invoice.customer.externalId,
    number: `CN-${pad(i + 1, 6)}`,
    issueDate: c.date,
    currency: c.invoice.customer.currency,
    totalMinor: c.amountMinor + c.unallocatedMinor,
    remainingMinor: c.unallocatedMinor,
    status: c.unallocatedMinor > 0 ? "authorised" : "paid",
    allocations: [{ invoiceExternalId: c.invoice.externalId, amountMinor: c.amountMinor, date: c.date }],
  }));

  return {
    organisation: {
      name: organisationName(root.fork("organisation")),
      baseCurrency,
      timezone: "Europe/London",
      country: "GB",
    },
    contacts: plans.map((p) => p.contact),
    invoices,
    payments,
    creditNotes,
    truth: plans.map((p) => ({
      contactExternalId: p.externalId,
      profile: p.profile,
      changesOn: p.changesOn,
    })),
  };
}

// --- customers ---

function planCustomers(
  rng: Random,
  count: number,
  baseCurrency: string,
  ledgerStart: IsoDate,
  asOf: IsoDate,
): CustomerPlan[] {
  const mix = demoProfileMix(count);
  const profiles = rng.shuffle(DEMO_PROFILES.flatMap((p) => Array.from({ length: mix[p] }, () => p)));

  // One currency per customer: most in the base currency, some in one or two others.
  const foreign = ["EUR", "USD", "GBP"].filter((c) => c !== baseCurrency).slice(0, 2);
  const currencies: string[] = Array.from({ length: count }, () => baseCurrency);
  const firstForeign = count >= 4 ? Math.max(1, Math.round(count * 0.12)) : 0;
  const secondForeign = count >= 8 ? Math.max(1, Math.round(count * 0.07)) : 0;
  const order = rng.shuffle(Array.from({ length: count }, (_, i) => i));
  order.slice(0, firstForeign).forEach((i) => {
    currencies[i] = foreign[0]!;
  });
  order.slice(firstForeign, firstForeign + secondForeign).forEach((i) => {
    currencies[i] = foreign[1]!;
  });

  const makeIdentity = createIdentityMaker();
  const width = Math.max(4, String(count).length);
  return profiles.map((profile, index) => {
    const c = rng.fork(`customer/${index}`);
    const currency = currencies[index]!;
    const locale = LOCALE_BY_CURRENCY[currency] ?? "gb";
    const identity = makeIdentity(c, locale);
    const externalId = `demo-contact-${pad(index + 1, width)}`;

    const terms = c.weighted<DemoPaymentTerms>([
      ["net30", 45],
      ["eom", 19],
      ["net14", 18],
      ["net60", 10],
      ["net7", 8],
    ]);
    const unitsPerGbp = UNITS_PER_GBP[currency] ?? 1;
    const typicalNet = clamp(c.logNormal(900, 1.0), 60, 60_000) * unitsPerGbp;
    const changes = profile === "deteriorating" || profile === "defaulting";
    const invoicesPerMonth = clamp(c.logNormal(1.4, 0.6), changes ? 1 : 0.35, 8);
    const retainerDay = c.chance(0.2) ? c.int(1, 5) : null;
    const vatRate = locale === "gb" ? 0.2 : 0;

    let changesOn: IsoDate | null = null;
    let from = ledgerStart;
    let until = asOf;
    if (profile === "deteriorating") {
      changesOn = startOfMonth(addMonths(asOf, -c.int(4, 9)));
    } else if (profile === "defaulting") {
      changesOn = addDays(startOfMonth(addMonths(asOf, -c.int(4, 8))), c.int(0, 27));
      // The account goes on stop a month or two after the payments dry up.
      until = addDays(changesOn, c.int(30, 75));
    } else if (profile !== "chronic_late") {
      // Some customers arrive during the two years, and a few leave.
      const joinedAfterMonths = c.chance(0.2) ? c.int(2, 16) : 0;
      from = addMonths(ledgerStart, joinedAfterMonths);
      if ((profile === "reliable" || profile === "early") && c.chance(0.08)) {
        until = addMonths(ledgerStart, c.int(Math.max(6, joinedAfterMonths + 4), 22));
      }
    }

    let creditLimitMinor: number | null = null;
    if (c.chance(0.35)) {
      const monthly = typicalNet * (1 + vatRate) * invoicesPerMonth;
      const limitMajor = Math.max(1000, Math.ceil((monthly * c.float(1.5, 4)) / 1000) * 1000);
      creditLimitMinor = limitMajor * 10 ** currencyExponent(currency);
    }

    const contact: CanonicalContact = {
      externalId,
      name: identity.name,
      emails: identity.emails,
      phone: identity.phone,
      creditLimitMinor,
      timezone: identity.timezone,
    };
    return {
      index,
      externalId,
      profile,
      changesOn,
      currency,
      contact,
      terms,
      from,
      until,
      typicalNet,
      invoicesPerMonth,
      retainerDay,
      batchPayer: c.chance(0.35),
      vatRate,
      rng: c,
    };
  });
}

// --- invoices ---

function dueDateFor(issueDate: IsoDate, terms: DemoPaymentTerms): IsoDate {
  switch (terms) {
    case "net7":
      return addDays(issueDate, 7);
    case "net14":
      return addDays(issueDate, 14);
    case "net30":
      return addDays(issueDate, 30);
    case "net60":
      return addDays(issueDate, 60);
    case "eom":
      return endOfMonth(addMonths(startOfMonth(issueDate), 1));
  }
}

function toMinor(major: number, currency: string, vatRate: number): number {
  const unit = 10 ** currencyExponent(currency);
  let net = Math.round(major * unit);
  // Larger invoices are usually for whole amounts; VAT then adds the pennies.
  if (major >= 250) net = Math.max(unit, Math.round(net / unit) * unit);
  return Math.max(1, Math.round(net * (1 + vatRate)));
}

function draftInvoices(plan: CustomerPlan, ledgerStart: IsoDate, asOf: IsoDate): InvoiceDraft[] {
  const rng = plan.rng.fork("invoices");
  const dates: { date: IsoDate; major: number }[] = [];
  const retainerNet = plan.typicalNet * rng.float(0.8, 1.2);
  const firstDay = maxDate(plan.from, ledgerStart);
  const inWindow = (d: IsoDate) => d >= firstDay && d <= plan.until && d <= asOf;

  for (let month = startOfMonth(firstDay); month <= asOf; month = addMonths(month, 1)) {
    const season = SEASON[monthOf(month)] ?? 1;
    const lastDay = Number(endOfMonth(month).slice(8, 10));
    if (plan.retainerDay !== null) {
      const d = nextBusinessDay(addDays(month, plan.retainerDay - 1));
      if (inWindow(d)) dates.push({ date: d, major: retainerNet });
    }
    const rate = plan.retainerDay !== null ? plan.invoicesPerMonth * 0.3 : plan.invoicesPerMonth;
    const n = rng.poisson(rate * season);
    for (let k = 0; k < n; k++) {
      const d = previousBusinessDay(addDays(month, rng.int(0, lastDay - 1)));
      const major = rng.logNormal(plan.typicalNet, 0.45) * (season > 1 ? 1.1 : 1);
      if (inWindow(d)) dates.push({ date: d, major });
    }
  }

  // A defaulting customer is still invoiced after it stops paying, before the account goes on stop.
  if (plan.changesOn && plan.profile === "defaulting" && !dates.some((d) => d.date >= plan.changesOn!)) {
    const d = nextBusinessDay(addDays(plan.changesOn, rng.int(1, 10)));
    if (d <= asOf) dates.push({ date: d, major: rng.logNormal(plan.typicalNet, 0.45) });
  }

  dates.sort((a, b) => cmp(a.date, b.date));
  return dates.map(({ date, major }, seq) => ({
    customer: plan,
    seq,
    issueDate: date,
    dueDate: dueDateFor(date, plan.terms),
    totalMinor: toMinor(major, plan.currency, plan.vatRate),
    isVoid: false,
    credited: false,
    externalId: "",
    number: "",
  }));
}

/** True when the invoice must stay open to show the planted behaviour (a defaulter's unpaid invoices). */
function mustStayOpen(d: InvoiceDraft): boolean {
  const { profile, changesOn } = d.customer;
  return profile === "defaulting" && changesOn !== null && d.issueDate >= changesOn;
}

/** A few invoices are voided (raised in error) and a few credited; at least one of each in a real ledger. */
function plantVoidsAndCredits(rng: Random, drafts: InvoiceDraft[], asOf: IsoDate): void {
  const eligible = drafts.filter((d) => !mustStayOpen(d) && d.issueDate < asOf);
  for (const d of eligible) {
    const r = rng.next();
    if (r < 0.015) d.isVoid = true;
    else if (r < 0.035) d.credited = true;
  }
  if (eligible.length >= 20) {
    if (!eligible.some((d) => d.isVoid)) rng.pick(eligible.filter((d) => !d.credited)).isVoid = true;
    if (!eligible.some((d) => d.credited)) {
      // Credit an older invoice so its credit note is dated well before asOf.
      const older = eligible.filter((d) => !d.isVoid && daysFrom(d.issueDate, asOf) > 30);
      rng.pick(older.length > 0 ? older : eligible.filter((d) => !d.isVoid)).credited = true;
    }
  }
}

/** Invoice numbers follow issue order across the whole organisation: INV-000001, INV-000002, ... */
function numberInvoices(drafts: InvoiceDraft[]): void {
  drafts.sort(
    (a, b) => cmp(a.issueDate, b.issueDate) || a.customer.index - b.customer.index || a.seq - b.seq,
  );
  drafts.forEach((d, i) => {
    d.number = `INV-${pad(i + 1, 6)}`;
    d.externalId = `demo-invoice-${pad(i + 1, 6)}`;
  });
}

// --- payments and credits ---

/** When the customer's final payment for an invoice would land, before weekend and floor adjustments. */
function plannedSettlement(rng: Random, d: InvoiceDraft): IsoDate {
  const { profile, changesOn } = d.customer;
  const termDays = daysFrom(d.issueDate, d.dueDate);
  const reliable = () => addDays(d.dueDate, rng.chance(0.05) ? rng.int(5, 14) : Math.round(rng.normal(0, 2)));
  switch (profile) {
    case "reliable":
      return reliable();
    case "early": {
      const early = addDays(d.issueDate, Math.round(termDays * rng.float(0.15, 0.55)) + rng.int(0, 1));
      return termDays >= 5 && early > addDays(d.dueDate, -2) ? addDays(d.dueDate, -2) : early;
    }
    case "slow_steady":
      return addDays(d.dueDate, clamp(Math.round(rng.normal(15, 3)), 9, 24));
    case "chronic_late":
      return addDays(d.dueDate, Math.round(rng.float(30, 60) + rng.normal(0, 2)));
    case "deteriorating": {
      if (!changesOn || d.dueDate < changesOn) return reliable();
      // Later and later: +15 days just after the change, growing to +40 over six months.
      const drift = 15 + 25 * Math.min(1, daysFrom(changesOn, d.dueDate) / 180);
      return addDays(d.dueDate, Math.round(drift + rng.normal(0, 3)));
    }
    case "defaulting":
      return addDays(d.dueDate, clamp(Math.round(rng.normal(7, 5)), -3, 20));
  }
}

const PARTIAL_CHANCE: Record<DemoProfile, number> = {
  reliable: 0.03,
  early: 0.02,
  slow_steady: 0.1,
  chronic_late: 0.5,
  deteriorating: 0.05,
  defaulting: 0.15,
};

/** Splits what is owed into one final payment, sometimes preceded by one or two payments on account. */
function installments(
  rng: Random,
  d: InvoiceDraft,
  owed: number,
  finalDate: IsoDate,
  floor: IsoDate,
): { date: IsoDate; amountMinor: number }[] {
  const parts = rng.chance(PARTIAL_CHANCE[d.customer.profile]) ? (rng.chance(0.7) ? 2 : 3) : 1;
  if (parts === 1 || owed < parts * 2) return [{ date: finalDate, amountMinor: owed }];
  const unit = 10 ** currencyExponent(d.customer.currency);
  const amounts: number[] = [];
  let left = owed;
  for (let k = 0; k < parts - 1; k++) {
    let a = Math.round(left * rng.float(0.25, 0.55));
    if (a >= 20 * unit) a = Math.round(a / unit) * unit; // "£500 on account"
    a = clamp(a, 1, left - 1);
    amounts.push(a);
    left -= a;
  }
  amounts.push(left);
  const dates: IsoDate[] = [finalDate];
  for (let k = 1; k < parts; k++) {
    dates.unshift(maxDate(floor, nextBusinessDay(addDays(dates[0]!, -rng.int(10, 30)))));
  }
  dates.sort(cmp);
  return amounts.map((amountMinor, k) => ({ date: dates[k]!, amountMinor }));
}

function settle(
  plan: CustomerPlan,
  drafts: InvoiceDraft[],
  asOf: IsoDate,
): { payments: PlannedAllocation[][]; credits: PlannedCredit[] } {
  const rng = plan.rng.fork("settle");
  const allocations: PlannedAllocation[] = [];
  const credits: PlannedCredit[] = [];
  const stopsPayingOn = plan.profile === "defaulting" ? plan.changesOn : null;

  for (const d of drafts) {
    if (d.isVoid) continue;
    let owed = d.totalMinor;
    let floor = d.issueDate;
    if (d.credited) {
      const date = nextBusinessDay(addDays(d.issueDate, rng.int(1, 21)));
      if (date <= asOf) {
        const full = rng.chance(0.25);
        const amountMinor = full ? owed : clamp(Math.round(owed * rng.float(0.05, 0.5)), 1, owed);
        const unallocatedMinor = rng.chance(0.15)
          ? Math.max(1, Math.round(amountMinor * rng.float(0.05, 0.3)))
          : 0;
        credits.push({ invoice: d, amountMinor, date, unallocatedMinor });
        owed -= amountMinor;
        floor = date;
      }
    }
    if (owed === 0) continue;
    const finalDate = maxDate(floor, nextBusinessDay(plannedSettlement(rng, d)));
    for (const part of installments(rng, d, owed, finalDate, floor)) {
      if (part.date > asOf) break;
      if (stopsPayingOn && part.date >= stopsPayingOn) break;
      allocations.push({ invoice: d, amountMinor: part.amountMinor, date: part.date });
    }
  }

  allocations.sort((a, b) => cmp(a.date, b.date) || cmp(a.invoice.number, b.invoice.number));
  const payments: PlannedAllocation[][] = [];
  if (!plan.batchPayer) {
    for (const a of allocations) payments.push([a]);
  } else {
    // One remittance per payment day, one allocation per invoice within it.
    for (const sameDay of groupBy(allocations, (a) => a.date).values()) {
      const perInvoice = new Map<InvoiceDraft, PlannedAllocation>();
      for (const a of sameDay) {
        const seen = perInvoice.get(a.invoice);
        if (seen) seen.amountMinor += a.amountMinor;
        else perInvoice.set(a.invoice, { ...a });
      }
      payments.push([...perInvoice.values()]);
    }
  }
  return { payments, credits };
}

function finishInvoice(
  d: InvoiceDraft,
  paid: PlannedAllocation[],
  credits: PlannedCredit[],
): CanonicalInvoice {
  let amountPaidMinor = 0;
  let amountCreditedMinor = 0;
  let lastDate: IsoDate | null = null;
  if (!d.isVoid) {
    for (const a of paid) {
      amountPaidMinor += a.amountMinor;
      if (lastDate === null || a.date > lastDate) lastDate = a.date;
    }
    for (const c of credits) {
      amountCreditedMinor += c.amountMinor;
      if (lastDate === null || c.date > lastDate) lastDate = c.date;
    }
  }
  const amountDueMinor = d.isVoid ? 0 : d.totalMinor - amountPaidMinor - amountCreditedMinor;
  const settled = !d.isVoid && amountDueMinor === 0;
  return {
    externalId: d.externalId,
    contactExternalId: d.customer.externalId,
    number: d.number,
    issueDate: d.issueDate,
    dueDate: d.dueDate,
    currency: d.customer.currency,
    totalMinor: d.totalMinor,
    amountPaidMinor,
    amountCreditedMinor,
    amountDueMinor,
    status: d.isVoid ? "void" : settled ? "paid" : "authorised",
    paidOn: settled ? lastDate : null,
  };
}

// --- small helpers ---

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const item of items) pushTo(out, key(item), item);
  return out;
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
