/**
 * The demo's invoices: drafted per customer by season and rhythm, a few voided or credited, then numbered in
 * issue order across the organisation.
 */
import { currencyExponent, type IsoDate } from "../model";
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
import type { CustomerPlan } from "./customers";
import type { DemoPaymentTerms } from "./profiles";
import type { Random } from "./random";
import { cmp, pad } from "./util";

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

export type InvoiceDraft = {
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

export function draftInvoices(plan: CustomerPlan, ledgerStart: IsoDate, asOf: IsoDate): InvoiceDraft[] {
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
export function plantVoidsAndCredits(rng: Random, drafts: InvoiceDraft[], asOf: IsoDate): void {
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
export function numberInvoices(drafts: InvoiceDraft[]): void {
  drafts.sort(
    (a, b) => cmp(a.issueDate, b.issueDate) || a.customer.index - b.customer.index || a.seq - b.seq,
  );
  drafts.forEach((d, i) => {
    d.number = `INV-${pad(i + 1, 6)}`;
    d.externalId = `demo-invoice-${pad(i + 1, 6)}`;
  });
}
