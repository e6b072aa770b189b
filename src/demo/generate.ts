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
  type IsoDate,
  isCurrencyCode,
  isIsoDate,
} from "../model";
import { addDays, addMonths } from "./calendar";
import { planCustomers } from "./customers";
import { draftInvoices, type InvoiceDraft, numberInvoices, plantVoidsAndCredits } from "./invoices";
import { organisationName } from "./names";
import type { DemoProfile } from "./profiles";
import { createRandom } from "./random";
import { finishInvoice, type PlannedAllocation, type PlannedCredit, settle } from "./settle";
import { cmp, groupBy, pad, pushTo } from "./util";

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
