/**
 * A customer as the dashboard shows and changes it: the contact row, its invoices, payments, holds, audit
 * entries and open disputes, and the settings a person changes on the customer page. Plain queries, no
 * decisions. Moved here from the web layer (src/http/queries.ts).
 */

import { and, desc, eq, inArray, sql } from "drizzle-orm";
import { IN_CHUNK } from "./dashboard-scores";
import type { Db } from "./db";
import { openDisputes } from "./disputes";
import { auditLog, contacts, creditHolds, invoices } from "./schema";

export type ContactRow = typeof contacts.$inferSelect;

/** A customer of this organisation by its ledger id (undefined when it belongs elsewhere). */
export async function contactByExternalId(
  db: Db,
  orgId: string,
  externalId: string,
): Promise<ContactRow | undefined> {
  const [c] = await db
    .select()
    .from(contacts)
    .where(and(eq(contacts.orgId, orgId), eq(contacts.externalId, externalId)))
    .limit(1);
  return c;
}

/** The settings a person changes on the customer page (the ledger sync never changes these). */
export type ContactPatch = Partial<
  Pick<ContactRow, "chasingPausedUntil" | "optedOut" | "creditLimitMinor" | "policyId" | "excluded">
>;

export async function updateContact(db: Db, contactId: string, patch: ContactPatch, now: number) {
  await db
    .update(contacts)
    .set({ ...patch, updatedAt: now })
    .where(eq(contacts.id, contactId));
}

/** Names and hold states of some customers, by contact id. */
export async function contactNames(db: Db, orgId: string, ids: string[]) {
  const out = new Map<string, { external_id: string; name: string; hold_state: string }>();
  for (let k = 0; k < ids.length; k += IN_CHUNK) {
    const part = ids.slice(k, k + IN_CHUNK);
    const rows = await db.all<{ id: string; external_id: string; name: string; hold_state: string }>(
      sql`select id, external_id, name, hold_state from contacts where org_id = ${orgId} and id in (${sql.join(
        part.map((id) => sql`${id}`),
        sql`, `,
      )})`,
    );
    for (const r of rows) out.set(r.id, r);
  }
  return out;
}

/**
 * The customers (contact ids) with an invoice whose number contains `q` (case-insensitive; `%` and `_` match
 * themselves): the risk list's search matches invoice numbers as well as names and ids.
 */
export async function contactsWithInvoiceNumber(db: Db, orgId: string, q: string): Promise<Set<string>> {
  const pattern = `%${q.toLowerCase().replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
  const rows = await db.all<{ contact_id: string }>(
    sql`select distinct contact_id from invoices
        where org_id = ${orgId} and lower(number) like ${pattern} escape '\\'`,
  );
  return new Set(rows.map((r) => r.contact_id));
}

interface InvoiceLine {
  id: string;
  number: string;
  issueDate: string;
  dueDate: string;
  currency: string;
  totalMinor: number;
  amountDueMinor: number;
  status: string;
  paidOn: string | null;
  disputedAt: number | null;
}

export async function invoicesOf(db: Db, contactId: string): Promise<InvoiceLine[]> {
  return db.all<InvoiceLine>(sql`
    select id, number, issue_date as issueDate, due_date as dueDate, currency, total_minor as totalMinor,
           amount_due_minor as amountDueMinor, status, paid_on as paidOn, disputed_at as disputedAt
    from invoices where contact_id = ${contactId} and status not in ('draft', 'deleted') order by issue_date`);
}

interface PaymentLine {
  date: string;
  currency: string;
  amountMinor: number;
  invoiceNumber: string;
}

export async function paymentsOf(db: Db, contactId: string): Promise<PaymentLine[]> {
  return db.all<PaymentLine>(sql`
    select pa.date as date, i.currency as currency, pa.amount_minor as amountMinor, i.number as invoiceNumber
    from payment_allocations pa join payments p on p.id = pa.payment_id join invoices i on i.id = pa.invoice_id
    where i.contact_id = ${contactId} and p.deleted = 0 order by pa.date`);
}

type HoldRow = typeof creditHolds.$inferSelect;

export async function holdsOf(db: Db, contactId: string): Promise<HoldRow[]> {
  return db.select().from(creditHolds).where(eq(creditHolds.contactId, contactId)).orderBy(creditHolds.at);
}

type AuditRow = typeof auditLog.$inferSelect;

export async function auditFor(db: Db, orgId: string, contactId: string, limit = 200): Promise<AuditRow[]> {
  return db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.orgId, orgId), eq(auditLog.contactId, contactId)))
    .orderBy(desc(auditLog.at))
    .limit(limit);
}

interface CustomerDispute {
  invoiceId: string;
  number: string;
  reason: string;
  comment: string | null;
}

/**
 * This customer's open disputes (oldest first), with the invoice number: the organisation's open disputes
 * (`openDisputes`) of this contact.
 */
export async function customerDisputes(db: Db, orgId: string, contactId: string): Promise<CustomerDispute[]> {
  const open = (await openDisputes(db, orgId)).filter((d) => d.contactId === contactId).reverse();
  const numbers = new Map<string, string>();
  const ids = [...new Set(open.map((d) => d.invoiceId))];
  for (let k = 0; k < ids.length; k += IN_CHUNK) {
    const rows = await db
      .select({ id: invoices.id, number: invoices.number })
      .from(invoices)
      .where(and(eq(invoices.orgId, orgId), inArray(invoices.id, ids.slice(k, k + IN_CHUNK))));
    for (const r of rows) numbers.set(r.id, r.number);
  }
  return open.flatMap((d) => {
    const number = numbers.get(d.invoiceId);
    return number === undefined
      ? []
      : [{ invoiceId: d.invoiceId, number, reason: d.reason, comment: d.comment }];
  });
}
