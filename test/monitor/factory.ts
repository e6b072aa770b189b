/**
 * Builds monitor input rows from a small description of what happened, either as the full ledger today or as
 * the ledger stood on a given date (invoices issued later absent, later payments not yet made).
 */
import { addDays } from "../../src/model";
import type { MonitorAllocation, MonitorContact, MonitorInvoice, OrgInput } from "../../src/model/monitor";

export interface EventSpec {
  date: string;
  /** Defaults to the invoice's remaining amount. */
  amount?: number;
  kind?: "payment" | "credit_note";
  creditNoteId?: string;
}

export interface InvoiceSpec {
  contact: string;
  issue: string;
  /** Defaults to issue + 30 days. */
  due?: string;
  total?: number;
  currency?: string;
  events?: EventSpec[];
  status?: MonitorInvoice["status"];
  /** Write only `paidOn`, no allocation rows (some providers give no payment detail). */
  noAllocations?: boolean;
}

export interface CreditNoteSpec {
  id: string;
  contact: string;
  issue: string;
  total: number;
  currency?: string;
}

export interface LedgerSpec {
  baseCurrency?: string;
  contacts: (string | { id: string; creditLimitMinor?: number | null; name?: string })[];
  invoices: InvoiceSpec[];
  creditNotes?: CreditNoteSpec[];
}

/** The rows of `spec` as they stood at the end of `asStoodOn` (default: everything). */
export function buildLedger(spec: LedgerSpec, asStoodOn?: string): OrgInput {
  const base = spec.baseCurrency ?? "GBP";
  const contacts: MonitorContact[] = spec.contacts.map((c) => {
    const o = typeof c === "string" ? { id: c } : c;
    return {
      id: `con_${o.id}`,
      externalId: o.id,
      name: o.name ?? `Customer ${o.id}`,
      creditLimitMinor: o.creditLimitMinor ?? null,
    };
  });
  const known = (date: string): boolean => asStoodOn === undefined || date <= asStoodOn;
  const invoices: MonitorInvoice[] = [];
  const allocations: MonitorAllocation[] = [];
  spec.invoices.forEach((inv, i) => {
    if (!known(inv.issue)) return;
    const id = `inv_${inv.contact}_${i}`;
    const total = inv.total ?? 100_00;
    let paid = 0;
    let credited = 0;
    let paidOn: string | null = null;
    const events = [...(inv.events ?? [])].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
    for (const e of events) {
      if (!known(e.date)) continue;
      const amount = e.amount ?? total - paid - credited;
      if (e.kind === "credit_note") credited += amount;
      else paid += amount;
      if (!inv.noAllocations) {
        allocations.push({
          invoiceId: id,
          amountMinor: amount,
          date: e.date,
          kind: e.kind ?? "payment",
          creditNoteId: e.creditNoteId ?? null,
        });
      }
      if (paidOn === null && paid + credited >= total) paidOn = e.date;
    }
    const due = Math.max(0, total - paid - credited);
    invoices.push({
      id,
      contactId: `con_${inv.contact}`,
      number: `INV-${i}`,
      issueDate: inv.issue,
      dueDate: inv.due ?? addDays(inv.issue, 30),
      currency: inv.currency ?? base,
      totalMinor: total,
      amountPaidMinor: paid,
      amountCreditedMinor: credited,
      amountDueMinor: due,
      status: inv.status ?? (due === 0 ? "paid" : "authorised"),
      paidOn,
    });
  });
  const creditNotes = (spec.creditNotes ?? [])
    .filter((c) => known(c.issue))
    .map((c) => ({
      id: c.id,
      contactId: `con_${c.contact}`,
      issueDate: c.issue,
      currency: c.currency ?? base,
      totalMinor: c.total,
      status: "authorised" as const,
    }));
  return { baseCurrency: base, contacts, invoices, allocations, creditNotes };
}

/**
 * Invoices for `contact`, one every `everyDays` from `firstIssue`, net 30, settled `daysBeyondTerms[i]` days
 * after the due date (null: never paid).
 */
export function paymentHistory(
  contact: string,
  firstIssue: string,
  daysBeyondTerms: readonly (number | null)[],
  options: { everyDays?: number; total?: number; currency?: string } = {},
): InvoiceSpec[] {
  return daysBeyondTerms.map((d, i) => {
    const issue = addDays(firstIssue, i * (options.everyDays ?? 30));
    const due = addDays(issue, 30);
    return {
      contact,
      issue,
      due,
      total: options.total,
      currency: options.currency,
      events: d === null ? [] : [{ date: addDays(due, d) }],
    };
  });
}
