/**
 * Late-payment charges, pure: what an organisation may charge on one overdue invoice as of a date, under one of
 * three rules, and how much of that has not been charged yet.
 *
 * - `fixed`: a fee per reminder level reached (level 1's fee, plus level 2's once level 2 has gone, …), in the
 *   rule's currency only.
 * - `percent`: simple interest at a yearly rate, pro rata by day from the due date, once the invoice is more
 *   than `graceDays` late (then counted from the due date, not from the end of the grace period).
 * - `uk-statutory`: the Late Payment of Commercial Debts (Interest) Act 1998: simple interest at 8% over the
 *   Bank of England base rate (configured, since it changes) from the due date, plus fixed compensation of
 *   £40, £70 or £100 for a debt under £1,000, under £10,000, or from £10,000. GBP invoices only.
 *
 * Interest runs on the balance actually outstanding each day: a part payment (or credit note) dated D lowers
 * the balance from D on, and interest stops when the balance reaches zero. It is summed exactly in integer
 * arithmetic and rounded half up to the minor unit once, at the end.
 *
 * An invoice in dispute, or under a promise to pay that still stands on the date, is not charged; the
 * result says why. `alreadyCharged` (what earlier approved charges on this invoice came to) is subtracted, so
 * a charge is never proposed twice for the same days or the same fee.
 */
import { daysBetween, type IsoDate } from "../model";

export type ChargeRule =
  | { kind: "fixed"; currency: string; feePerLevel: readonly number[] }
  | { kind: "percent"; ratePerAnnumBp: number; graceDays: number }
  | { kind: "uk-statutory"; baseRateBp: number };

/** The statutory rate over the base rate, in basis points (8%). */
export const STATUTORY_MARGIN_BP = 800;

/** Fixed compensation by debt size, in pence: [debt below, sum]; the last band has no upper bound. */
export const STATUTORY_COMPENSATION: readonly (readonly [number, number])[] = [
  [100_000, 4_000],
  [1_000_000, 7_000],
  [Number.POSITIVE_INFINITY, 10_000],
];

export interface ChargeableInvoice {
  /** The invoice total, minor units. */
  total: number;
  currency: string;
  dueDate: IsoDate;
  /** Money applied to the invoice (payments and credit notes), each with the date it was applied. */
  applied: readonly { date: IsoDate; minor: number }[];
  /** The highest reminder level sent for this invoice (0 when none). */
  levelReached: number;
  disputed: boolean;
  /** The date a customer promised to pay by, when a promise stands. */
  promisedBy: IsoDate | null;
}

export interface ChargeBreakdown {
  interest: number;
  compensation: number;
  fees: number;
  total: number;
  currency: string;
  /** Days late on the date (0 when not due yet). */
  daysLate: number;
}

export type ChargeOutcome =
  | { charge: true; due: ChargeBreakdown; alreadyCharged: number; toPropose: number }
  | { charge: false; reason: string };

const DAYS_PER_YEAR = 365n;

/** Σ balance × days over the days from the due date to `asOf`, the balance lowered by each application. */
export function balanceDays(invoice: ChargeableInvoice, asOf: IsoDate): bigint {
  const applied = [...invoice.applied].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  let balance = invoice.total;
  let from = invoice.dueDate;
  let sum = 0n;
  for (const a of applied) {
    if (a.date > asOf) break;
    if (a.date > from) {
      if (balance > 0) sum += BigInt(balance) * BigInt(daysBetween(from, a.date));
      from = a.date;
    }
    balance -= a.minor;
  }
  if (balance > 0 && asOf > from) sum += BigInt(balance) * BigInt(daysBetween(from, asOf));
  return sum;
}

/** Simple interest on `balanceDays` at `rateBp` a year, rounded half up to the minor unit. */
export function interestOn(balanceDaysSum: bigint, rateBp: number): number {
  if (rateBp <= 0 || balanceDaysSum <= 0n) return 0;
  const numerator = balanceDaysSum * BigInt(rateBp);
  const denominator = 10_000n * DAYS_PER_YEAR;
  return Number((numerator * 2n + denominator) / (denominator * 2n));
}

export function statutoryCompensation(debtMinor: number): number {
  for (const [below, sum] of STATUTORY_COMPENSATION) if (debtMinor < below) return sum;
  return 0;
}

function outstandingOn(invoice: ChargeableInvoice, asOf: IsoDate): number {
  return invoice.applied.reduce((left, a) => (a.date <= asOf ? left - a.minor : left), invoice.total);
}

/** What `rule` allows on `invoice` as of `asOf`, and the part of it not charged yet. */
export function chargeFor(
  rule: ChargeRule,
  invoice: ChargeableInvoice,
  asOf: IsoDate,
  alreadyCharged = 0,
): ChargeOutcome {
  const daysLate = Math.max(0, daysBetween(invoice.dueDate, asOf));
  if (daysLate === 0) return { charge: false, reason: "not overdue" };
  if (outstandingOn(invoice, asOf) <= 0) return { charge: false, reason: "paid" };
  if (invoice.disputed) return { charge: false, reason: "in dispute" };
  if (invoice.promisedBy && invoice.promisedBy >= asOf)
    return { charge: false, reason: `promised to pay by ${invoice.promisedBy}` };

  let interest = 0;
  let compensation = 0;
  let fees = 0;
  switch (rule.kind) {
    case "fixed": {
      if (invoice.currency !== rule.currency)
        return {
          charge: false,
          reason: `fees are set in ${rule.currency}, the invoice is in ${invoice.currency}`,
        };
      fees = rule.feePerLevel.slice(0, Math.max(0, invoice.levelReached)).reduce((s, f) => s + f, 0);
      break;
    }
    case "percent": {
      if (daysLate <= rule.graceDays)
        return { charge: false, reason: `within the ${rule.graceDays}-day grace period` };
      interest = interestOn(balanceDays(invoice, asOf), rule.ratePerAnnumBp);
      break;
    }
    case "uk-statutory": {
      if (invoice.currency !== "GBP")
        return {
          charge: false,
          reason: `UK statutory interest applies to GBP debts, not ${invoice.currency}`,
        };
      interest = interestOn(balanceDays(invoice, asOf), STATUTORY_MARGIN_BP + rule.baseRateBp);
      compensation = statutoryCompensation(invoice.total);
      break;
    }
  }
  const total = interest + compensation + fees;
  const due = { interest, compensation, fees, total, currency: invoice.currency, daysLate };
  return { charge: true, due, alreadyCharged, toPropose: Math.max(0, total - alreadyCharged) };
}
