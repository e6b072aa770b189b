/**
 * The straightforward restrictToAsOf (as it was before the speed work on issue 3): one Map of allocations by
 * invoice id, every list sorted. Kept as the reference the fast path in src/monitor/as-of.ts is checked
 * against (bench/score-speed.ts on 1M invoices, test/monitor/as-of-reference.test.ts on small ledgers).
 */

import { dayNumber } from "../../src/days";
import type { IsoDate } from "../../src/model";
import type { MonitorAllocation, OrgInput } from "../../src/model/monitor";
import { type CreditAsOf, cmp, type InvoiceAsOf, type LedgerAsOf } from "../../src/monitor/as-of";

const IGNORED_STATUSES = new Set(["draft", "void", "deleted"]);

interface AllocLite {
  day: number;
  date: IsoDate;
  amountMinor: number;
  kind: "payment" | "credit_note";
}

/** Restricts an organisation's ledger to what was known on `asOf`. Pure. */
export function referenceRestrictToAsOf(input: OrgInput, asOf: IsoDate): LedgerAsOf {
  const asOfDay = dayNumber(asOf);

  // Most invoices have one allocation: keep it unwrapped (1M-row ledgers would otherwise allocate 1M arrays).
  const allocsByInvoice = new Map<string, MonitorAllocation | MonitorAllocation[]>();
  const creditUsed = new Map<string, number>();
  for (const a of input.allocations) {
    const prev = allocsByInvoice.get(a.invoiceId);
    if (prev === undefined) allocsByInvoice.set(a.invoiceId, a);
    else if (Array.isArray(prev)) prev.push(a);
    else allocsByInvoice.set(a.invoiceId, [prev, a]);
    if (a.kind === "credit_note" && a.creditNoteId && dayNumber(a.date) <= asOfDay) {
      creditUsed.set(a.creditNoteId, (creditUsed.get(a.creditNoteId) ?? 0) + a.amountMinor);
    }
  }

  const contacts = input.contacts.filter((c) => !c.deleted).sort((a, b) => cmp(a.id, b.id));
  const invoicesByContact = new Map<string, InvoiceAsOf[]>();
  for (const c of contacts) invoicesByContact.set(c.id, []);

  for (const inv of input.invoices) {
    if (IGNORED_STATUSES.has(inv.status) || inv.totalMinor <= 0) continue;
    const list = invoicesByContact.get(inv.contactId);
    if (!list) continue;
    const issueDay = dayNumber(inv.issueDate);
    if (issueDay > asOfDay) continue;
    list.push(invoiceAsOf(inv, issueDay, asOfDay, allocsByInvoice.get(inv.id)));
  }
  for (const list of invoicesByContact.values()) {
    list.sort((a, b) => a.issueDay - b.issueDay || a.dueDay - b.dueDay || cmp(a.id, b.id));
  }

  const creditsByContact = new Map<string, CreditAsOf[]>();
  for (const cn of input.creditNotes ?? []) {
    if (IGNORED_STATUSES.has(cn.status) || dayNumber(cn.issueDate) > asOfDay) continue;
    if (!invoicesByContact.has(cn.contactId)) continue;
    const unapplied = cn.totalMinor - (creditUsed.get(cn.id) ?? 0);
    if (unapplied <= 0) continue;
    let list = creditsByContact.get(cn.contactId);
    if (!list) {
      list = [];
      creditsByContact.set(cn.contactId, list);
    }
    const same = list.find((c) => c.currency === cn.currency);
    if (same) same.unappliedMinor += unapplied;
    else list.push({ contactId: cn.contactId, currency: cn.currency, unappliedMinor: unapplied });
  }
  for (const list of creditsByContact.values()) list.sort((a, b) => cmp(a.currency, b.currency));

  return { asOf, asOfDay, baseCurrency: input.baseCurrency, contacts, invoicesByContact, creditsByContact };
}

function invoiceAsOf(
  inv: OrgInput["invoices"][number],
  issueDay: number,
  asOfDay: number,
  rows: MonitorAllocation | MonitorAllocation[] | undefined,
): InvoiceAsOf {
  const paidOnDay = inv.paidOn ? dayNumber(inv.paidOn) : null;

  if (rows !== undefined) {
    const allocs = toKnown(rows, asOfDay);
    let paid = 0;
    let credited = 0;
    let paymentCount = 0;
    let settledOn: IsoDate | null = null;
    let settledDay: number | null = null;
    if (allocs.length > 0) {
      allocs.sort((a, b) => a.day - b.day || (a.kind === b.kind ? 0 : a.kind === "credit_note" ? -1 : 1));
      for (const a of allocs) {
        if (a.kind === "payment") {
          paid += a.amountMinor;
          paymentCount++;
        } else credited += a.amountMinor;
        if (settledOn === null && paid + credited >= inv.totalMinor) {
          settledOn = a.date;
          settledDay = a.day;
        }
      }
    }
    // The row says it was settled by then even though the allocations we hold do not add up: trust the row.
    if (settledOn === null && paidOnDay !== null && paidOnDay <= asOfDay && inv.amountDueMinor <= 0) {
      settledOn = inv.paidOn;
      settledDay = paidOnDay;
    }
    const settled = settledOn !== null;
    return make(inv, issueDay, {
      paidMinor: paid,
      creditedMinor: credited,
      dueMinor: settled ? 0 : Math.max(0, inv.totalMinor - paid - credited),
      settledOn,
      settledDay,
      settledUndated: false,
      creditedOnly: settled && paid === 0 && credited > 0,
      paymentCount,
    });
  }

  if (paidOnDay !== null) {
    const settled = paidOnDay <= asOfDay;
    const creditedOnly = settled && inv.amountPaidMinor === 0 && inv.amountCreditedMinor > 0;
    return make(inv, issueDay, {
      paidMinor: settled ? inv.amountPaidMinor : 0,
      creditedMinor: settled ? inv.amountCreditedMinor : 0,
      dueMinor: settled ? 0 : inv.totalMinor,
      settledOn: settled ? inv.paidOn : null,
      settledDay: settled ? paidOnDay : null,
      settledUndated: false,
      creditedOnly,
      paymentCount: settled && inv.amountPaidMinor > 0 ? 1 : 0,
    });
  }

  // No dates at all: the row's current amounts are the best available.
  const undated = inv.status === "paid" || inv.amountDueMinor <= 0;
  return make(inv, issueDay, {
    paidMinor: inv.amountPaidMinor,
    creditedMinor: inv.amountCreditedMinor,
    dueMinor: undated ? 0 : inv.amountDueMinor,
    settledOn: null,
    settledDay: null,
    settledUndated: undated,
    creditedOnly: false,
    paymentCount: inv.amountPaidMinor > 0 ? 1 : 0,
  });
}

const NONE: AllocLite[] = [];

/** The allocations dated on or before asOf (never mutate the shared empty list). */
function toKnown(rows: MonitorAllocation | MonitorAllocation[], asOfDay: number): AllocLite[] {
  if (!Array.isArray(rows)) {
    const day = dayNumber(rows.date);
    return day <= asOfDay ? [{ day, date: rows.date, amountMinor: rows.amountMinor, kind: rows.kind }] : NONE;
  }
  const out: AllocLite[] = [];
  for (const a of Array.isArray(rows) ? rows : [rows]) {
    const day = dayNumber(a.date);
    if (day <= asOfDay) out.push({ day, date: a.date, amountMinor: a.amountMinor, kind: a.kind });
  }
  return out;
}

type AsOfPart = Omit<
  InvoiceAsOf,
  "id" | "contactId" | "number" | "issueDate" | "dueDate" | "issueDay" | "dueDay" | "currency" | "totalMinor"
>;

/** One object shape for every invoice (spreading made 1M-row ledgers slow). */
function make(inv: OrgInput["invoices"][number], issueDay: number, p: AsOfPart): InvoiceAsOf {
  return {
    id: inv.id,
    contactId: inv.contactId,
    number: inv.number,
    issueDate: inv.issueDate,
    dueDate: inv.dueDate,
    issueDay,
    dueDay: dayNumber(inv.dueDate),
    currency: inv.currency,
    totalMinor: inv.totalMinor,
    paidMinor: p.paidMinor,
    creditedMinor: p.creditedMinor,
    dueMinor: p.dueMinor,
    settledOn: p.settledOn,
    settledDay: p.settledDay,
    settledUndated: p.settledUndated,
    creditedOnly: p.creditedOnly,
    paymentCount: p.paymentCount,
  };
}
