/**
 * The monitor's input: an organisation's ledger loaded as the pure monitor reads it (customers, invoices,
 * payment and credit-note allocations, credit notes), whole or cut to the history scoring as of a date needs.
 * Every read goes through the column reader (store/columns.ts). Scores and alerts live in store/scores.ts.
 */
import { eq, sql } from "drizzle-orm";
import {
  HISTORY_INVOICES,
  type MonitorAllocation,
  type MonitorContact,
  type MonitorCreditNote,
  type MonitorInvoice,
  type OrgInput,
} from "../model/monitor";
import { type ColumnArrays, readColumns } from "./columns";
import type { Db } from "./db";
import type { Organisation } from "./orgs";
import {
  contacts,
  creditNoteAllocations,
  creditNotes,
  invoices,
  paymentAllocations,
  payments,
} from "./schema";

/** Rows per page of the invoice and payment-allocation reads (each page is one small result row). */
const PAGE_ROWS = 16_384;

const INVOICE = {
  id: invoices.id,
  contactId: invoices.contactId,
  number: invoices.number,
  issueDate: invoices.issueDate,
  dueDate: invoices.dueDate,
  currency: invoices.currency,
  totalMinor: invoices.totalMinor,
  amountPaidMinor: invoices.amountPaidMinor,
  amountCreditedMinor: invoices.amountCreditedMinor,
  amountDueMinor: invoices.amountDueMinor,
  status: invoices.status,
  paidOn: invoices.paidOn,
};

/** Read joined (long unique strings), the rest as JSON arrays (see `joined` in store/columns.ts). */
const ID_AND_NUMBER = ["id", "number"] as const;

const ALLOCATION = {
  invoiceId: paymentAllocations.invoiceId,
  amountMinor: paymentAllocations.amountMinor,
  date: paymentAllocations.date,
};

/** Appends one page of invoices, each built field by field in one object shape. */
function pushInvoices(out: MonitorInvoice[]) {
  return (c: ColumnArrays<typeof INVOICE>, n: number) => {
    for (let k = 0; k < n; k++) {
      out.push({
        id: c.id[k]!,
        contactId: c.contactId[k]!,
        number: c.number[k]!,
        issueDate: c.issueDate[k]!,
        dueDate: c.dueDate[k]!,
        currency: c.currency[k]!,
        totalMinor: c.totalMinor[k]!,
        amountPaidMinor: c.amountPaidMinor[k]!,
        amountCreditedMinor: c.amountCreditedMinor[k]!,
        amountDueMinor: c.amountDueMinor[k]!,
        status: c.status[k]!,
        paidOn: c.paidOn[k]!,
      });
    }
  };
}

/** The invoice columns of the as-of batches: the customer comes as its index in the batch's driving list. */
const BATCH_INVOICE = (() => {
  const { contactId: _, ...rest } = INVOICE;
  return { ...rest, contactAt: sql<number>`b.key` };
})();

/** Appends one page of a batch's invoices (`contactIds`: the batch's driving list). */
function pushBatchInvoices(out: MonitorInvoice[], contactIds: readonly string[]) {
  return (c: ColumnArrays<typeof BATCH_INVOICE>, n: number) => {
    for (let k = 0; k < n; k++) {
      out.push({
        id: c.id[k]!,
        contactId: contactIds[c.contactAt[k]!]!,
        number: c.number[k]!,
        issueDate: c.issueDate[k]!,
        dueDate: c.dueDate[k]!,
        currency: c.currency[k]!,
        totalMinor: c.totalMinor[k]!,
        amountPaidMinor: c.amountPaidMinor[k]!,
        amountCreditedMinor: c.amountCreditedMinor[k]!,
        amountDueMinor: c.amountDueMinor[k]!,
        status: c.status[k]!,
        paidOn: c.paidOn[k]!,
      });
    }
  };
}

/** The allocation columns of the as-of batches: the invoice comes as its index in the batch's id list. */
const BATCH_ALLOCATION = {
  invoiceAt: sql<number>`j.key`,
  amountMinor: paymentAllocations.amountMinor,
  date: paymentAllocations.date,
};

/** Appends one page of a batch's payment allocations (`invoiceIds`: the batch's id list), sharing its id strings. */
function pushBatchAllocations(out: MonitorAllocation[], invoiceIds: readonly string[]) {
  return (c: ColumnArrays<typeof BATCH_ALLOCATION>, n: number) => {
    for (let k = 0; k < n; k++) {
      out.push({
        invoiceId: invoiceIds[c.invoiceAt[k]!]!,
        amountMinor: c.amountMinor[k]!,
        date: c.date[k]!,
        kind: "payment",
        creditNoteId: null,
      });
    }
  };
}

/** Appends one page of payment allocations. */
function pushPaymentAllocations(out: MonitorAllocation[]) {
  return (c: ColumnArrays<typeof ALLOCATION>, n: number) => {
    for (let k = 0; k < n; k++) {
      out.push({
        invoiceId: c.invoiceId[k]!,
        amountMinor: c.amountMinor[k]!,
        date: c.date[k]!,
        kind: "payment",
        creditNoteId: null,
      });
    }
  };
}

/** Customers per batch of the as-of loader (keeps each statement's JSON lists small). */
const CONTACTS_PER_BATCH = 500;

/** An invoice that counts for the monitor (the partial index invoices_org_contact_issue holds exactly these). */
const counts = sql`${invoices.disputedAt} is null and ${invoices.status} not in ('draft', 'void', 'deleted')
  and ${invoices.totalMinor} > 0`;

/** Later or equal in (issue date, due date, id) order: the order of the invoices_org_contact_issue index. */
const atOrAfter = (issueDate: string, dueDate: string, id: string, cut: MonitorInvoice): boolean =>
  issueDate !== cut.issueDate
    ? issueDate > cut.issueDate
    : dueDate !== cut.dueDate
      ? dueDate > cut.dueDate
      : id >= cut.id;

/**
 * What scoring as of `asOf` reads (monitor/horizon.ts): per customer, the invoices that count issued on or
 * before asOf, cut to the last HISTORY_INVOICES plus older ones not yet paid on asOf by their row; and the payment
 * allocations of exactly those invoices. Customers are read in batches: each customer's last HISTORY_INVOICES are
 * one short walk back through the invoices_org_contact_issue index, and the batch's allocations are read by
 * invoice id. A customer with HISTORY_INVOICES of them has a cut (the earliest of them in (issue date, due date,
 * id) order). The older invoices not yet paid on asOf are one statement for the whole organisation (through
 * invoices_org_paid_on: what was open on asOf, not the paid history), each kept when it lies before its
 * customer's cut. Allocations of deleted payments are left out through the small partial index payments_deleted,
 * when the organisation has any.
 */
async function loadWithinHorizon(
  db: Db,
  orgId: string,
  contactIds: readonly string[],
  asOf: string,
  out: { invoices: MonitorInvoice[]; allocations: MonitorAllocation[] },
): Promise<void> {
  // Invoices still open on asOf (a customer's history before its cut keeps these).
  const older: MonitorInvoice[] = [];
  await readColumns(
    db,
    {
      columns: INVOICE,
      joined: ID_AND_NUMBER,
      where: sql`${invoices.orgId} = ${orgId} and (${invoices.paidOn} is null or ${invoices.paidOn} > ${asOf})
        and ${invoices.issueDate} <= ${asOf} and ${counts}`,
    },
    pushInvoices(older),
  );
  const olderOf = new Map<string, MonitorInvoice[]>();
  for (const inv of older) {
    const list = olderOf.get(inv.contactId);
    if (list) list.push(inv);
    else olderOf.set(inv.contactId, [inv]);
  }
  // Deleted payments' allocations are left out; most organisations have none, and then nothing is checked.
  const [deletedRow] = await db.values<[number]>(
    sql`select exists (select 1 from ${payments} indexed by payments_deleted
      where ${payments.deleted} = 1 and ${payments.orgId} = ${orgId})`,
  );
  const notDeleted = deletedRow?.[0]
    ? sql` and not exists (select 1 from ${payments} indexed by payments_deleted
        where ${payments.id} = ${paymentAllocations.paymentId} and ${payments.deleted} = 1)`
    : sql``;
  const sorted = [...contactIds].sort();
  const recent: MonitorInvoice[] = [];
  for (let b = 0; b < sorted.length; b += CONTACTS_PER_BATCH) {
    const batch = sorted.slice(b, b + CONTACTS_PER_BATCH);
    recent.length = 0;
    await readColumns(
      db,
      {
        columns: BATCH_INVOICE,
        joined: ID_AND_NUMBER,
        from: sql`json_each(${JSON.stringify(batch)}) b cross join ${invoices} on ${invoices}.rowid in (
          select i.rowid from ${invoices} i
          where i.org_id = ${orgId} and i.contact_id = b.value and i.disputed_at is null
            and i.status not in ('draft', 'void', 'deleted') and i.total_minor > 0 and i.issue_date <= ${asOf}
          order by i.issue_date desc, i.due_date desc, i.id desc limit ${HISTORY_INVOICES})`,
      },
      pushBatchInvoices(recent, batch),
    );
    // Each customer's cut: the earliest of its last HISTORY_INVOICES, when it has that many.
    const seen = new Map<string, { n: number; cut: MonitorInvoice }>();
    for (const inv of recent) {
      const s = seen.get(inv.contactId);
      if (!s) seen.set(inv.contactId, { n: 1, cut: inv });
      else {
        s.n++;
        if (atOrAfter(s.cut.issueDate, s.cut.dueDate, s.cut.id, inv)) s.cut = inv;
      }
    }
    const from = out.invoices.length;
    for (const c of batch) {
      const list = olderOf.get(c);
      const s = seen.get(c);
      if (!list || !s || s.n < HISTORY_INVOICES) continue;
      for (const inv of list)
        if (!atOrAfter(inv.issueDate, inv.dueDate, inv.id, s.cut)) out.invoices.push(inv);
    }
    for (const inv of recent) out.invoices.push(inv);
    if (out.invoices.length === from) continue;
    const ids: string[] = [];
    for (let k = from; k < out.invoices.length; k++) ids.push(out.invoices[k]!.id);
    await readColumns(
      db,
      {
        columns: BATCH_ALLOCATION,
        from: sql`json_each(${JSON.stringify(ids)}) j cross join ${paymentAllocations}
          on ${paymentAllocations.invoiceId} = j.value`,
        where: sql`+${paymentAllocations.orgId} = ${orgId}${notDeleted}`,
      },
      pushBatchAllocations(out.allocations, ids),
    );
  }
}

/**
 * Everything the monitor reads for one organisation. The monitor itself applies `asOf`. Invoices a customer
 * disputed on the customers' page are left out (not in the exposure, not held against the customer) until a
 * bookkeeper resolves the dispute (`resolveDispute` in store/disputes.ts).
 *
 * This is the hot path of a scoring run (issue 3: 1M invoices within a few times one SQL aggregate pass over
 * them; bench/score-speed.ts), so it reads only the columns the monitor uses, a page at a time (the invoices and
 * payment allocations in rowid order), and builds each row field by field in one object shape.
 * test/support/reference-monitor-load.ts keeps the straightforward version it must equal
 * (test/store/monitor-load.test.ts). `pageRows` is for tests.
 */
export async function loadMonitorInput(
  db: Db,
  org: Pick<Organisation, "id" | "baseCurrency">,
  pageRows = PAGE_ROWS,
  asOf?: string,
): Promise<OrgInput> {
  // Supplier-only contacts (the ledger says supplier, not customer) are no customers until they have a sales
  // invoice: never scored or chased.
  const contactRows: MonitorContact[] = [];
  await readColumns(
    db,
    {
      columns: {
        id: contacts.id,
        externalId: contacts.externalId,
        name: contacts.name,
        creditLimitMinor: contacts.creditLimitMinor,
        deleted: contacts.deleted,
      },
      where: sql`${contacts.orgId} = ${org.id}
        and not (${contacts.isSupplier} = 1 and coalesce(${contacts.isCustomer}, 0) = 0
                 and not exists (select 1 from invoices i where i.contact_id = ${contacts.id}))`,
    },
    (c, n) => {
      for (let k = 0; k < n; k++)
        contactRows.push({
          id: c.id[k]!,
          externalId: c.externalId[k]!,
          name: c.name[k]!,
          creditLimitMinor: c.creditLimitMinor[k]!,
          deleted: c.deleted[k]!,
        });
    },
  );
  const invoiceRows: MonitorInvoice[] = [];
  const allocations: MonitorAllocation[] = [];
  if (asOf !== undefined) {
    // Only what scoring as of asOf reads (monitor/horizon.ts); scoring it equals scoring everything.
    await loadWithinHorizon(
      db,
      org.id,
      contactRows.map((c) => c.id),
      asOf,
      { invoices: invoiceRows, allocations },
    );
  } else {
    await readColumns(
      db,
      {
        columns: INVOICE,
        joined: ID_AND_NUMBER,
        where: sql`${invoices.orgId} = ${org.id} and ${invoices.disputedAt} is null`,
        pageRows,
      },
      pushInvoices(invoiceRows),
    );
    await readColumns(
      db,
      {
        columns: ALLOCATION,
        joined: ["invoiceId"],
        from: sql`${paymentAllocations} join ${payments} on ${payments.id} = ${paymentAllocations.paymentId}`,
        where: sql`${paymentAllocations.orgId} = ${org.id} and ${payments.deleted} = 0`,
        pageRows,
      },
      pushPaymentAllocations(allocations),
    );
  }
  await readColumns(
    db,
    {
      columns: {
        invoiceId: creditNoteAllocations.invoiceId,
        amountMinor: creditNoteAllocations.amountMinor,
        date: creditNoteAllocations.date,
        creditNoteId: creditNoteAllocations.creditNoteId,
      },
      where: eq(creditNoteAllocations.orgId, org.id),
    },
    (c, n) => {
      for (let k = 0; k < n; k++)
        allocations.push({
          invoiceId: c.invoiceId[k]!,
          amountMinor: c.amountMinor[k]!,
          date: c.date[k]!,
          kind: "credit_note",
          creditNoteId: c.creditNoteId[k]!,
        });
    },
  );
  const creditNoteRows: MonitorCreditNote[] = [];
  await readColumns(
    db,
    {
      columns: {
        id: creditNotes.id,
        contactId: creditNotes.contactId,
        issueDate: creditNotes.issueDate,
        currency: creditNotes.currency,
        totalMinor: creditNotes.totalMinor,
        status: creditNotes.status,
        remainingMinor: creditNotes.remainingMinor,
      },
      where: eq(creditNotes.orgId, org.id),
    },
    (c, n) => {
      for (let k = 0; k < n; k++)
        creditNoteRows.push({
          id: c.id[k]!,
          contactId: c.contactId[k]!,
          issueDate: c.issueDate[k]!,
          currency: c.currency[k]!,
          totalMinor: c.totalMinor[k]!,
          status: c.status[k]!,
          remainingMinor: c.remainingMinor[k]!,
        });
    },
  );
  return {
    baseCurrency: org.baseCurrency,
    contacts: contactRows,
    invoices: invoiceRows,
    allocations,
    creditNotes: creditNoteRows,
  };
}
