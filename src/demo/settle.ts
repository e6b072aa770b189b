/**
 * How the demo's customers pay: each invoice's settlement date by profile, payments on account, batched
 * remittances, credit notes, and the invoice as the ledger then shows it.
 */
import { type CanonicalInvoice, currencyExponent, type IsoDate } from "../model";
import { addDays, daysFrom, maxDate, nextBusinessDay } from "./calendar";
import type { CustomerPlan } from "./customers";
import type { InvoiceDraft } from "./invoices";
import type { DemoProfile } from "./profiles";
import type { Random } from "./random";
import { clamp, cmp, groupBy } from "./util";

export type PlannedAllocation = { invoice: InvoiceDraft; amountMinor: number; date: IsoDate };
export type PlannedCredit = PlannedAllocation & { unallocatedMinor: number };

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

export function settle(
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

export function finishInvoice(
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
