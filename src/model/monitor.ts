/**
 * Input and output shapes of the credit monitor. The inputs mirror rows of the store tables (contacts, invoices,
 * payment/credit-note allocations, credit notes) so drizzle's `$inferSelect` rows can be passed straight in, but
 * they are declared here, in the model, so that the monitor stays pure and the store (which loads them) imports
 * nothing above it. Only the fields the monitor reads are required; extra columns are ignored.
 */
import type { InvoiceStatus, IsoDate } from "../model";

export interface MonitorContact {
  /** Store id (`con_...`). */
  id: string;
  /** The provider's / CSV's customer id: what the output calls `customer_id`. */
  externalId: string;
  name: string;
  /** Credit limit in minor units of the organisation's base currency, when one is set. */
  creditLimitMinor: number | null;
  /** Deleted contacts are not scored. */
  deleted?: boolean;
}

export interface MonitorInvoice {
  id: string;
  contactId: string;
  number: string;
  issueDate: IsoDate;
  dueDate: IsoDate;
  currency: string;
  totalMinor: number;
  amountPaidMinor: number;
  amountCreditedMinor: number;
  amountDueMinor: number;
  status: InvoiceStatus;
  /** Date the invoice was fully settled, when it is. */
  paidOn: IsoDate | null;
}

/**
 * How many of a customer's latest invoices the monitor reads as its history (see monitor/horizon.ts for the
 * rule; the store's as-of loader applies the same cut in SQL).
 */
export const HISTORY_INVOICES = 36;

export type AllocationKind = "payment" | "credit_note";

/** One payment or credit-note allocation to an invoice, in the invoice's currency. */
export interface MonitorAllocation {
  invoiceId: string;
  amountMinor: number;
  date: IsoDate;
  kind: AllocationKind;
  /** For credit-note allocations, the credit note's id (lets the monitor work out unapplied credit as of a date). */
  creditNoteId?: string | null;
}

/** A credit note; its credit not yet allocated to an invoice on `asOf` reduces the customer's exposure. */
export interface MonitorCreditNote {
  id: string;
  contactId: string;
  issueDate: IsoDate;
  currency: string;
  totalMinor: number;
  status: InvoiceStatus;
  /**
   * What the ledger says is still unused now (Xero RemainingCredit, QuickBooks RemainingCredit/Balance). Credit
   * gone otherwise than by allocation (refunded in cash) is total - remaining - allocated, and never unused.
   */
  remainingMinor?: number;
}

export interface OrgInput {
  baseCurrency: string;
  contacts: readonly MonitorContact[];
  invoices: readonly MonitorInvoice[];
  allocations: readonly MonitorAllocation[];
  creditNotes?: readonly MonitorCreditNote[];
}

export const TRENDS = ["deteriorating", "stable", "improving", "insufficient_data"] as const;
export type Trend = (typeof TRENDS)[number];

export const GRADES = ["A", "B", "C", "D", "E"] as const;
export type Grade = (typeof GRADES)[number];

/**
 * One customer's result. The snake_case field names are a public interface (CLI `--json`, API): keep them.
 * `outstanding` and `overdue` are minor units of `currency` (see features.ts for how the currency is chosen).
 */
export interface CustomerScore {
  customer_id: string;
  contact_id: string;
  name: string;
  score: number;
  grade: Grade;
  late_probability: number;
  trend: Trend;
  trend_change_days: number | null;
  trend_started_on: IsoDate | null;
  /**
   * When the onset detector flags a deterioration right now: the due date of the first invoice of that run.
   * Alerts are raised from it, one per episode; `trend` is the state (it can stay `deteriorating` long after).
   */
  trend_onset_on: IsoDate | null;
  reasons: string[];
  outstanding: number;
  overdue: number;
  currency: string;
}

/** The deterioration alert last raised for a customer (kept in the audit log, read back by the store). */
export interface Episode {
  /** Start of the episode as reported when the alert was raised. */
  startedOn: IsoDate | null;
  /** asOf of the result that raised the alert. */
  alertedOn: IsoDate;
}
