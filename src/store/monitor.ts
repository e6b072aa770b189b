/**
 * The monitor's side of the store: load an organisation's ledger as the pure monitor's input, and keep the
 * score history and the one-alert-per-episode record of deteriorating customers.
 */

import { and, desc, eq, inArray, lte, sql } from "drizzle-orm";
import {
  type CustomerScore,
  type Episode,
  HISTORY_INVOICES,
  type MonitorAllocation,
  type MonitorContact,
  type MonitorCreditNote,
  type MonitorInvoice,
  type OrgInput,
} from "../model/monitor";
import { audit } from "./audit";
import type { Db } from "./db";
import type { Organisation } from "./orgs";
import { auditLog, scores } from "./schema";

/** Rows per page of the invoice and payment-allocation reads (each page is one small result row). */
const PAGE_ROWS = 16_384;
/** Separator of the packed id and number lists (ASCII unit separator). */
const SEP = "\u001f";

type InvoicePage = [
  n: number,
  lastRowid: number | null,
  ids: string | null,
  numbers: string | null,
  contactIds: string,
  issueDates: string,
  dueDates: string,
  currencies: string,
  totals: string,
  paid: string,
  credited: string,
  due: string,
  statuses: string,
  paidOn: string,
];
type InvoiceRow = [
  rowid: number,
  id: string,
  contactId: string,
  number: string,
  issueDate: string,
  dueDate: string,
  currency: string,
  totalMinor: number,
  amountPaidMinor: number,
  amountCreditedMinor: number,
  amountDueMinor: number,
  status: MonitorInvoice["status"],
  paidOn: string | null,
];
type AllocationPage = [
  n: number,
  lastRowid: number | null,
  invoiceIds: string | null,
  amounts: string,
  dates: string,
];

/** `text` split on SEP when that gives exactly `n` parts (no value held SEP), else null. */
function unpack(text: string | null, n: number): string[] | null {
  if (text === null) return null;
  const parts = text.split(SEP);
  return parts.length === n ? parts : null;
}

/** Unpacks one packed invoice page (see loadInvoices); null when ids or numbers held SEP. */
function unpackInvoices(p: InvoicePage, out: MonitorInvoice[]): boolean {
  const n = p[0];
  const ids = unpack(p[2], n);
  const numbers = unpack(p[3], n);
  if (!ids || !numbers) return false;
  const contactIds = JSON.parse(p[4]) as string[];
  const issueDates = JSON.parse(p[5]) as string[];
  const dueDates = JSON.parse(p[6]) as string[];
  const currencies = JSON.parse(p[7]) as string[];
  const totals = JSON.parse(p[8]) as number[];
  const paid = JSON.parse(p[9]) as number[];
  const credited = JSON.parse(p[10]) as number[];
  const due = JSON.parse(p[11]) as number[];
  const statuses = JSON.parse(p[12]) as MonitorInvoice["status"][];
  const paidOn = JSON.parse(p[13]) as (string | null)[];
  for (let k = 0; k < n; k++) {
    out.push({
      id: ids[k]!,
      contactId: contactIds[k]!,
      number: numbers[k]!,
      issueDate: issueDates[k]!,
      dueDate: dueDates[k]!,
      currency: currencies[k]!,
      totalMinor: totals[k]!,
      amountPaidMinor: paid[k]!,
      amountCreditedMinor: credited[k]!,
      amountDueMinor: due[k]!,
      status: statuses[k]!,
      paidOn: paidOn[k]!,
    });
  }
  return true;
}

const rowToInvoice = (r: InvoiceRow): MonitorInvoice => ({
  id: r[1],
  contactId: r[2],
  number: r[3],
  issueDate: r[4],
  dueDate: r[5],
  currency: r[6],
  totalMinor: r[7],
  amountPaidMinor: r[8],
  amountCreditedMinor: r[9],
  amountDueMinor: r[10],
  status: r[11],
  paidOn: r[12],
});

/** Customers per batch of the as-of loader (keeps each statement's JSON lists small). */
const CONTACTS_PER_BATCH = 200;

/**
 * What scoring as of `asOf` reads (monitor/horizon.ts): per customer, the invoices that count issued on or
 * before asOf, cut to the last HISTORY_INVOICES plus older ones not yet paid on asOf by their row; and the payment
 * allocations of exactly those invoices. One statement finds each customer's cut (the HISTORY_INVOICES-th latest
 * invoice, through the invoices_org_contact_issue index); then customers are read in batches, each batch's
 * invoices as one packed row and their allocations by invoice id.
 */
async function loadWithinHorizon(
  db: Db,
  orgId: string,
  contactIds: readonly string[],
  asOf: string,
  out: { invoices: MonitorInvoice[]; allocations: MonitorAllocation[] },
): Promise<void> {
  const cuts = await db.values<[string, string, string, string]>(
    sql`select c.id, k.issue_date, k.due_date, k.id from contacts c join invoices k on k.rowid = (
          select i.rowid from invoices i
          where i.org_id = ${orgId} and i.contact_id = c.id and i.disputed_at is null
            and i.status not in ('draft', 'void', 'deleted') and i.total_minor > 0 and i.issue_date <= ${asOf}
          order by i.issue_date desc, i.due_date desc, i.id desc limit 1 offset ${HISTORY_INVOICES - 1})
        where c.org_id = ${orgId}`,
  );
  const cutOf = new Map(cuts.map((c) => [c[0], [c[1], c[2], c[3]] as const]));
  const sorted = [...contactIds].sort();
  for (let b = 0; b < sorted.length; b += CONTACTS_PER_BATCH) {
    const batch = sorted.slice(b, b + CONTACTS_PER_BATCH);
    // One JSON list drives the batch: [contact id, cut issue date, cut due date, cut id] (no cut: [contact id]).
    const drive = JSON.stringify(batch.map((c) => (cutOf.has(c) ? [c, ...cutOf.get(c)!] : [c])));
    const rows = sql`from json_each(${drive}) b cross join invoices i
          on i.org_id = ${orgId} and i.contact_id = json_extract(b.value, '$[0]')
        where i.disputed_at is null and i.status not in ('draft', 'void', 'deleted') and i.total_minor > 0
          and i.issue_date <= ${asOf}
          and (json_extract(b.value, '$[1]') is null
            or (i.issue_date, i.due_date, i.id) >=
              (json_extract(b.value, '$[1]'), json_extract(b.value, '$[2]'), json_extract(b.value, '$[3]'))
            or i.paid_on is null or i.paid_on > ${asOf})`;
    const [p] = await db.values<InvoicePage>(
      sql`select count(*), null, group_concat(id, char(31)), group_concat(number, char(31)),
            json_group_array(contact_id), json_group_array(issue_date), json_group_array(due_date),
            json_group_array(currency), json_group_array(total_minor), json_group_array(amount_paid_minor),
            json_group_array(amount_credited_minor), json_group_array(amount_due_minor), json_group_array(status),
            json_group_array(paid_on)
          from (select i.rowid as r, ${sql.raw(
            "i.id as id, i.contact_id as contact_id, i.number as number, i.issue_date as issue_date, i.due_date as due_date, i.currency as currency, i.total_minor as total_minor, i.amount_paid_minor as amount_paid_minor, i.amount_credited_minor as amount_credited_minor, i.amount_due_minor as amount_due_minor, i.status as status, i.paid_on as paid_on",
          )} ${rows} order by i.rowid)`,
    );
    const from = out.invoices.length;
    if (p && p[0] > 0 && !unpackInvoices(p, out.invoices)) {
      const plain = await db.values<InvoiceRow>(
        sql`select i.rowid, ${sql.raw(
          "i.id, i.contact_id, i.number, i.issue_date, i.due_date, i.currency, i.total_minor, i.amount_paid_minor, i.amount_credited_minor, i.amount_due_minor, i.status, i.paid_on",
        )} ${rows} order by i.rowid`,
      );
      for (const r of plain) out.invoices.push(rowToInvoice(r));
    }
    const ids = out.invoices.slice(from).map((i) => i.id);
    if (ids.length === 0) continue;
    const allocs = await db.values<[string, number, string]>(
      sql`select pa.invoice_id, pa.amount_minor, pa.date from json_each(${JSON.stringify(ids)}) j cross join payment_allocations pa on pa.invoice_id = j.value
          join payments p on p.id = pa.payment_id
          where +pa.org_id = ${orgId} and p.deleted = 0
          order by pa.rowid`,
    );
    for (const a of allocs) {
      out.allocations.push({
        invoiceId: a[0],
        amountMinor: a[1],
        date: a[2],
        kind: "payment",
        creditNoteId: null,
      });
    }
  }
}

/**
 * The organisation's invoices that are not disputed, in rowid order, read a page at a time. Each page comes back
 * as one row of packed columns (ids and numbers joined by SEP, the rest as JSON arrays), because turning a
 * million rows of twelve cells into JS values one cell at a time costs many times the SQL scan. A page whose ids
 * or numbers hold SEP is read again as plain rows.
 */
async function loadInvoices(db: Db, orgId: string, pageRows: number): Promise<MonitorInvoice[]> {
  const out: MonitorInvoice[] = [];
  let after = Number.MIN_SAFE_INTEGER;
  for (;;) {
    const page = sql`from invoices where org_id = ${orgId} and disputed_at is null and rowid > ${after}
      order by rowid limit ${pageRows}`;
    const [p] = await db.values<InvoicePage>(
      sql`select count(*), max(r), group_concat(id, char(31)), group_concat(number, char(31)),
            json_group_array(contact_id), json_group_array(issue_date), json_group_array(due_date),
            json_group_array(currency), json_group_array(total_minor), json_group_array(amount_paid_minor),
            json_group_array(amount_credited_minor), json_group_array(amount_due_minor), json_group_array(status),
            json_group_array(paid_on)
          from (select rowid as r, id, contact_id, number, issue_date, due_date, currency, total_minor,
                  amount_paid_minor, amount_credited_minor, amount_due_minor, status, paid_on ${page})`,
    );
    const n = p?.[0] ?? 0;
    if (n === 0) break;
    if (unpackInvoices(p!, out)) {
      after = p![1]!;
    } else {
      const rows = await db.values<InvoiceRow>(
        sql`select rowid, id, contact_id, number, issue_date, due_date, currency, total_minor, amount_paid_minor,
              amount_credited_minor, amount_due_minor, status, paid_on ${page}`,
      );
      for (const r of rows) out.push(rowToInvoice(r));
      if (rows.length === 0) break;
      after = rows[rows.length - 1]![0];
    }
    if (n < pageRows) break;
  }
  return out;
}

/** Allocations of the organisation's payments that are not deleted, in rowid order, paged like the invoices. */
async function loadPaymentAllocations(
  db: Db,
  orgId: string,
  pageRows: number,
  out: MonitorAllocation[],
): Promise<void> {
  let after = Number.MIN_SAFE_INTEGER;
  for (;;) {
    const page = sql`from payment_allocations pa join payments p on p.id = pa.payment_id
      where pa.org_id = ${orgId} and p.deleted = 0 and pa.rowid > ${after} order by pa.rowid limit ${pageRows}`;
    const [p] = await db.values<AllocationPage>(
      sql`select count(*), max(r), group_concat(invoice_id, char(31)), json_group_array(amount_minor),
            json_group_array(date)
          from (select pa.rowid as r, pa.invoice_id, pa.amount_minor, pa.date ${page})`,
    );
    const n = p?.[0] ?? 0;
    if (n === 0) break;
    let invoiceIds = unpack(p![2], n);
    let amounts: number[];
    let dates: string[];
    if (invoiceIds) {
      amounts = JSON.parse(p![3]) as number[];
      dates = JSON.parse(p![4]) as string[];
      after = p![1]!;
    } else {
      const rows = await db.values<[rowid: number, invoiceId: string, amountMinor: number, date: string]>(
        sql`select pa.rowid, pa.invoice_id, pa.amount_minor, pa.date ${page}`,
      );
      if (rows.length === 0) break;
      invoiceIds = rows.map((r) => r[1]);
      amounts = rows.map((r) => r[2]);
      dates = rows.map((r) => r[3]);
      after = rows[rows.length - 1]![0];
    }
    for (let k = 0; k < invoiceIds.length; k++) {
      out.push({
        invoiceId: invoiceIds[k]!,
        amountMinor: amounts[k]!,
        date: dates[k]!,
        kind: "payment",
        creditNoteId: null,
      });
    }
    if (n < pageRows) break;
  }
}

/**
 * Everything the monitor reads for one organisation. The monitor itself applies `asOf`. Invoices a customer
 * disputed on the customers' page are left out (not in the exposure, not held against the customer) until a
 * bookkeeper resolves the dispute (`resolveDispute` in store/portal.ts).
 *
 * This is the hot path of a scoring run (issue 3: 1M invoices within a few times one SQL aggregate pass over
 * them; bench/score-speed.ts), so it reads only the columns the monitor uses, as arrays, and builds each row
 * field by field in one object shape. bench/reference-monitor-load.ts keeps the straightforward version it
 * must equal (test/store/monitor-load.test.ts). `pageRows` is for tests.
 */
export async function loadMonitorInput(
  db: Db,
  org: Pick<Organisation, "id" | "baseCurrency">,
  pageRows = PAGE_ROWS,
  asOf?: string,
): Promise<OrgInput> {
  // Supplier-only contacts (the ledger says supplier, not customer) are no customers until they have a sales
  // invoice: never scored or chased.
  const cs = await db.values<[string, string, string, number | null, number]>(
    sql`select id, external_id, name, credit_limit_minor, deleted from contacts c where org_id = ${org.id}
        and not (c.is_supplier = 1 and coalesce(c.is_customer, 0) = 0
                 and not exists (select 1 from invoices i where i.contact_id = c.id))`,
  );
  const contactRows: MonitorContact[] = new Array(cs.length);
  for (let k = 0; k < cs.length; k++) {
    const c = cs[k]!;
    contactRows[k] = { id: c[0], externalId: c[1], name: c[2], creditLimitMinor: c[3], deleted: c[4] !== 0 };
  }
  let invoiceRows: MonitorInvoice[];
  const allocations: MonitorAllocation[] = [];
  if (asOf !== undefined) {
    // Only what scoring as of asOf reads (monitor/horizon.ts); scoring it equals scoring everything.
    invoiceRows = [];
    await loadWithinHorizon(
      db,
      org.id,
      contactRows.map((c) => c.id),
      asOf,
      { invoices: invoiceRows, allocations },
    );
  } else {
    invoiceRows = await loadInvoices(db, org.id, pageRows);
    await loadPaymentAllocations(db, org.id, pageRows, allocations);
  }
  const cnAllocs = await db.values<[string, number, string, string]>(
    sql`select invoice_id, amount_minor, date, credit_note_id from credit_note_allocations
        where org_id = ${org.id}`,
  );
  for (const a of cnAllocs) {
    allocations.push({
      invoiceId: a[0],
      amountMinor: a[1],
      date: a[2],
      kind: "credit_note",
      creditNoteId: a[3],
    });
  }
  const cns = await db.values<[string, string, string, string, number, MonitorCreditNote["status"], number]>(
    sql`select id, contact_id, issue_date, currency, total_minor, status, remaining_minor from credit_notes
        where org_id = ${org.id}`,
  );
  const creditNoteRows: MonitorCreditNote[] = cns.map((c) => ({
    id: c[0],
    contactId: c[1],
    issueDate: c[2],
    currency: c[3],
    totalMinor: c[4],
    status: c[5],
    remainingMinor: c[6],
  }));
  return {
    baseCurrency: org.baseCurrency,
    contacts: contactRows,
    invoices: invoiceRows,
    allocations,
    creditNotes: creditNoteRows,
  };
}

/** Stores one result per customer for `asOf` (a re-run of the same day replaces that day's rows). */
/** Rows per insert: 11 columns x 9 rows stays under D1's 100 bound parameters per statement. */
const SCORE_ROWS_PER_INSERT = 9;

export async function saveScores(db: Db, orgId: string, asOf: string, results: CustomerScore[], now: number) {
  const rows = results.map((r) => ({
    orgId,
    contactId: r.contact_id,
    asOf,
    score: r.score,
    grade: r.grade,
    lateProbability: r.late_probability,
    trend: r.trend,
    trendChangeDays: r.trend_change_days,
    trendStartedOn: r.trend_started_on,
    reasons: r.reasons,
    computedAt: now,
  }));
  const fromNew = (column: string) => sql.raw(`excluded.${column}`);
  for (let i = 0; i < rows.length; i += SCORE_ROWS_PER_INSERT) {
    await db
      .insert(scores)
      .values(rows.slice(i, i + SCORE_ROWS_PER_INSERT))
      .onConflictDoUpdate({
        target: [scores.contactId, scores.asOf],
        set: {
          orgId: fromNew("org_id"),
          score: fromNew("score"),
          grade: fromNew("grade"),
          lateProbability: fromNew("late_probability"),
          trend: fromNew("trend"),
          trendChangeDays: fromNew("trend_change_days"),
          trendStartedOn: fromNew("trend_started_on"),
          reasons: fromNew("reasons"),
          computedAt: fromNew("computed_at"),
        },
      });
  }
}

/** The latest stored score of each customer on or before `asOf` (for movement and for the reminder policy). */
export async function latestScores(db: Db, orgId: string, asOf: string) {
  const rows = await db
    .select()
    .from(scores)
    .where(and(eq(scores.orgId, orgId), lte(scores.asOf, asOf)))
    .orderBy(desc(scores.asOf));
  const byContact = new Map<string, typeof scores.$inferSelect>();
  for (const r of rows) if (!byContact.has(r.contactId)) byContact.set(r.contactId, r);
  return byContact;
}

export const DETERIORATION_ALERT = "monitor.deteriorating";
const ALERT_IDS_PER_QUERY = 90;

/** The last deterioration alert raised for each of these customers, from the audit log. */
export async function lastAlerts(db: Db, orgId: string, contactIds: string[]): Promise<Map<string, Episode>> {
  const out = new Map<string, Episode>();
  if (contactIds.length === 0) return out;
  const rows: { contactId: string | null; detail: unknown; at: number }[] = [];
  // D1 binds at most 100 parameters per statement: ask for the customers in chunks.
  for (let i = 0; i < contactIds.length; i += ALERT_IDS_PER_QUERY)
    rows.push(
      ...(await db
        .select({ contactId: auditLog.contactId, detail: auditLog.detail, at: auditLog.at })
        .from(auditLog)
        .where(
          and(
            eq(auditLog.orgId, orgId),
            eq(auditLog.action, DETERIORATION_ALERT),
            inArray(auditLog.contactId, contactIds.slice(i, i + ALERT_IDS_PER_QUERY)),
          ),
        )),
    );
  rows.sort((a, b) => b.at - a.at);
  for (const r of rows) {
    if (!r.contactId || out.has(r.contactId)) continue;
    const d = (r.detail ?? {}) as { startedOn?: string | null; asOf?: string };
    out.set(r.contactId, { startedOn: d.startedOn ?? null, alertedOn: d.asOf ?? "" });
  }
  return out;
}

export async function recordAlert(db: Db, orgId: string, r: CustomerScore, asOf: string, now: number) {
  await audit(
    db,
    {
      orgId,
      contactId: r.contact_id,
      actor: "monitor",
      action: DETERIORATION_ALERT,
      detail: {
        asOf,
        startedOn: r.trend_onset_on ?? r.trend_started_on,
        changeDays: r.trend_change_days,
        reasons: r.reasons,
      },
    },
    now,
  );
}
