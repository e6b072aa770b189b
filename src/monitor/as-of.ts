/**
 * The ledger as it stood on `asOf`: invoices issued after it are dropped, allocations dated after it do not
 * count. An invoice paid after `asOf` is open as of `asOf`, with amount due = total - allocations dated <= asOf.
 * Invoices without allocation rows fall back to `paidOn` (settled when paidOn <= asOf), and, when they have no
 * `paidOn` either, to the row's own `amountDueMinor` (the best the ledger can tell: it has no dates for it).
 *
 * Everything downstream reads only this view, so the full ledger scored as of D gives exactly the result of
 * the ledger as it stood on D. Draft, void and deleted invoices and credit notes are ignored; so are
 * invoices with a zero or negative total.
 */
import { dayNumber } from "../days";
import type { IsoDate } from "../model";
import type { MonitorAllocation, MonitorContact, OrgInput } from "../model/monitor";

/** One invoice as it stood on `asOf`. Day fields are `dayNumber`s of the matching dates. */
export interface InvoiceAsOf {
  id: string;
  contactId: string;
  number: string;
  issueDate: IsoDate;
  dueDate: IsoDate;
  issueDay: number;
  dueDay: number;
  currency: string;
  totalMinor: number;
  /** Payments allocated on or before asOf. */
  paidMinor: number;
  /** Credit notes allocated on or before asOf. */
  creditedMinor: number;
  /** Still to pay on asOf (0 when settled). */
  dueMinor: number;
  /** Date it was fully settled, when that happened on or before asOf and the date is known. */
  settledOn: IsoDate | null;
  settledDay: number | null;
  /** Settled on or before asOf but the ledger does not say when (no allocations, no paidOn). */
  settledUndated: boolean;
  /** Settled by credit notes alone: a cancellation, not a payment, so it says nothing about paying habits. */
  creditedOnly: boolean;
  /** Number of payment allocations dated on or before asOf. */
  paymentCount: number;
}

export interface CreditAsOf {
  contactId: string;
  currency: string;
  /** Credit not yet allocated to any invoice on asOf. */
  unappliedMinor: number;
}

export interface LedgerAsOf {
  asOf: IsoDate;
  asOfDay: number;
  baseCurrency: string;
  /** Non-deleted contacts, sorted by id. */
  contacts: MonitorContact[];
  /** Invoices that stood on asOf, grouped by contact id; each list sorted by issue day, due day, id. */
  invoicesByContact: Map<string, InvoiceAsOf[]>;
  creditsByContact: Map<string, CreditAsOf[]>;
}

const ignored = (status: string): boolean => status === "draft" || status === "void" || status === "deleted";

interface AllocLite {
  day: number;
  date: IsoDate;
  amountMinor: number;
  kind: "payment" | "credit_note";
}

/**
 * Each invoice's allocations, as a linked list over allocation indices (`head[invoice]`, `next[allocation]`, -1
 * ends a list), in input order. Invoice ids are unique (they are store keys). While allocations come in the
 * order of their invoices (as generated ledgers and many exports give them) they are matched by walking both
 * lists; the first allocation whose invoice is not found at or after the previous one's switches to a map of
 * all invoice ids (a million-entry string map costs more than the rest of this function).
 */
function allocationLists(
  invoices: OrgInput["invoices"],
  allocations: readonly MonitorAllocation[],
): { head: Int32Array; next: Int32Array } {
  const head = new Int32Array(invoices.length).fill(-1);
  const tail = new Int32Array(invoices.length);
  const next = new Int32Array(allocations.length).fill(-1);
  let index: Map<string, number> | null = null;
  let at = 0;
  for (let k = 0; k < allocations.length; k++) {
    const id = allocations[k]!.invoiceId;
    let j = -1;
    if (index === null) {
      for (let s = at; s < invoices.length; s++) {
        if (invoices[s]!.id === id) {
          j = s;
          break;
        }
      }
      if (j < 0) {
        index = new Map();
        for (let s = 0; s < invoices.length; s++) index.set(invoices[s]!.id, s);
      } else at = j;
    }
    if (index !== null) j = index.get(id) ?? -1;
    if (j < 0) continue;
    if (head[j] === -1) head[j] = k;
    else next[tail[j]!] = k;
    tail[j] = k;
  }
  return { head, next };
}

/** Restricts an organisation's ledger to what was known on `asOf`. Pure. */
export function restrictToAsOf(input: OrgInput, asOf: IsoDate): LedgerAsOf {
  const asOfDay = dayNumber(asOf);
  const allocations = input.allocations;
  const invoices = input.invoices;

  const creditUsed = new Map<string, number>();
  const creditAllocated = new Map<string, number>();
  for (const a of allocations) {
    if (a.kind === "credit_note" && a.creditNoteId) {
      creditAllocated.set(a.creditNoteId, (creditAllocated.get(a.creditNoteId) ?? 0) + a.amountMinor);
      if (dayNumber(a.date) <= asOfDay)
        creditUsed.set(a.creditNoteId, (creditUsed.get(a.creditNoteId) ?? 0) + a.amountMinor);
    }
  }
  const { head, next } = allocationLists(invoices, allocations);

  const contacts = input.contacts.filter((c) => !c.deleted).sort((a, b) => cmp(a.id, b.id));
  const invoicesByContact = new Map<string, InvoiceAsOf[]>();
  for (const c of contacts) invoicesByContact.set(c.id, []);

  // Invoices usually come grouped by customer: remember the last customer's list.
  let lastContact: string | null = null;
  let lastList: InvoiceAsOf[] | undefined;
  for (let j = 0; j < invoices.length; j++) {
    const inv = invoices[j]!;
    if (ignored(inv.status) || inv.totalMinor <= 0) continue;
    let list: InvoiceAsOf[] | undefined;
    if (inv.contactId === lastContact) list = lastList;
    else {
      list = invoicesByContact.get(inv.contactId);
      lastContact = inv.contactId;
      lastList = list;
    }
    if (!list) continue;
    const issueDay = dayNumber(inv.issueDate);
    if (issueDay > asOfDay) continue;
    list.push(invoiceAsOf(inv, issueDay, asOfDay, allocations, head[j]!, next));
  }
  for (const list of invoicesByContact.values()) {
    if (!sortedByIssue(list)) list.sort(byIssue);
  }

  const creditsByContact = new Map<string, CreditAsOf[]>();
  for (const cn of input.creditNotes ?? []) {
    if (ignored(cn.status) || dayNumber(cn.issueDate) > asOfDay) continue;
    if (!invoicesByContact.has(cn.contactId)) continue;
    // Credit the ledger says went otherwise (refunded in cash) was never there to use.
    const refunded =
      cn.remainingMinor === undefined
        ? 0
        : Math.max(0, cn.totalMinor - cn.remainingMinor - (creditAllocated.get(cn.id) ?? 0));
    const unapplied = cn.totalMinor - refunded - (creditUsed.get(cn.id) ?? 0);
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

const byIssue = (a: InvoiceAsOf, b: InvoiceAsOf): number =>
  a.issueDay - b.issueDay || a.dueDay - b.dueDay || cmp(a.id, b.id);

function sortedByIssue(list: readonly InvoiceAsOf[]): boolean {
  for (let i = 1; i < list.length; i++) if (byIssue(list[i - 1]!, list[i]!) > 0) return false;
  return true;
}

function invoiceAsOf(
  inv: OrgInput["invoices"][number],
  issueDay: number,
  asOfDay: number,
  allocations: readonly MonitorAllocation[],
  first: number,
  next: Int32Array,
): InvoiceAsOf {
  const paidOnDay = inv.paidOn ? dayNumber(inv.paidOn) : null;

  if (first >= 0) {
    let paid = 0;
    let credited = 0;
    let paymentCount = 0;
    let settledOn: IsoDate | null = null;
    let settledDay: number | null = null;
    if (next[first] === -1) {
      // One allocation (the usual case): no list to build or sort.
      const a = allocations[first]!;
      const day = a.date === inv.paidOn && paidOnDay !== null ? paidOnDay : dayNumber(a.date);
      if (day <= asOfDay) {
        if (a.kind === "payment") {
          paid = a.amountMinor;
          paymentCount = 1;
        } else credited = a.amountMinor;
        if (paid + credited >= inv.totalMinor) {
          settledOn = a.date;
          settledDay = day;
        }
      }
    } else {
      const allocs: AllocLite[] = [];
      for (let k = first; k !== -1; k = next[k]!) {
        const a = allocations[k]!;
        const day = dayNumber(a.date);
        if (day <= asOfDay) allocs.push({ day, date: a.date, amountMinor: a.amountMinor, kind: a.kind });
      }
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
    return make(
      inv,
      issueDay,
      paid,
      credited,
      settled ? 0 : Math.max(0, inv.totalMinor - paid - credited),
      settledOn,
      settledDay,
      false,
      settled && paid === 0 && credited > 0,
      paymentCount,
    );
  }

  if (paidOnDay !== null) {
    const settled = paidOnDay <= asOfDay;
    const creditedOnly = settled && inv.amountPaidMinor === 0 && inv.amountCreditedMinor > 0;
    return make(
      inv,
      issueDay,
      settled ? inv.amountPaidMinor : 0,
      settled ? inv.amountCreditedMinor : 0,
      settled ? 0 : inv.totalMinor,
      settled ? inv.paidOn : null,
      settled ? paidOnDay : null,
      false,
      creditedOnly,
      settled && inv.amountPaidMinor > 0 ? 1 : 0,
    );
  }

  // No dates at all: the row's current amounts are the best available.
  const undated = inv.status === "paid" || inv.amountDueMinor <= 0;
  return make(
    inv,
    issueDay,
    inv.amountPaidMinor,
    inv.amountCreditedMinor,
    undated ? 0 : inv.amountDueMinor,
    null,
    null,
    undated,
    false,
    inv.amountPaidMinor > 0 ? 1 : 0,
  );
}

/** One object shape for every invoice, built in one step (spreading made 1M-row ledgers slow). */
function make(
  inv: OrgInput["invoices"][number],
  issueDay: number,
  paidMinor: number,
  creditedMinor: number,
  dueMinor: number,
  settledOn: IsoDate | null,
  settledDay: number | null,
  settledUndated: boolean,
  creditedOnly: boolean,
  paymentCount: number,
): InvoiceAsOf {
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
    paidMinor,
    creditedMinor,
    dueMinor,
    settledOn,
    settledDay,
    settledUndated,
    creditedOnly,
    paymentCount,
  };
}

export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
