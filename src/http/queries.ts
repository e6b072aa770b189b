/**
 * Reads for the dashboard and its JSON API: plain queries over the store, no decisions. Scores come from the
 * stored history (the nightly scoring run), so pages never rescore a ledger.
 */
import { and, desc, eq, inArray, sql } from "drizzle-orm";
import type { IsoDate } from "../model";
import type { Db } from "../store/db";
import type { Organisation } from "../store/orgs";
import { auditLog, connections, contacts, creditHolds, organisations, scores } from "../store/schema";

export async function findOrgById(db: Db, id: string): Promise<Organisation | undefined> {
  const [o] = await db.select().from(organisations).where(eq(organisations.id, id)).limit(1);
  return o;
}

export async function setOrgTimezone(db: Db, orgId: string, timezone: string, now: number) {
  await db.update(organisations).set({ timezone, updatedAt: now }).where(eq(organisations.id, orgId));
}

export type ScoreRow = typeof scores.$inferSelect;

/** The scores of the latest scoring run on or before `asOf` (one row per customer). */
export async function scoresAsOf(db: Db, orgId: string, asOf: IsoDate): Promise<Map<string, ScoreRow>> {
  const rows = await db
    .select()
    .from(scores)
    .where(
      and(
        eq(scores.orgId, orgId),
        sql`${scores.asOf} = (select max(s2.as_of) from scores s2 where s2.org_id = ${orgId} and s2.as_of <= ${asOf})`,
      ),
    );
  return new Map(rows.map((r) => [r.contactId, r]));
}

/** Ids per `in (...)` list: D1 binds at most 100 parameters per statement. */
export const IN_CHUNK = 90;

/** The newest scoring run on or before `asOf` (null when there is none). */
async function latestRunAsOf(db: Db, orgId: string, asOf: IsoDate): Promise<IsoDate | null> {
  const [r] = await db.all<{ asOf: IsoDate | null }>(
    sql`select max(as_of) as asOf from scores where org_id = ${orgId} and as_of <= ${asOf}`,
  );
  return r?.asOf ?? null;
}

export type RiskRow = Pick<ScoreRow, "contactId" | "asOf" | "score" | "grade" | "trend">;

/**
 * The same rows as scoresAsOf without the reasons and the other detail: enough to sort, filter and count the
 * customers of a large organisation. Fetch the reasons of the rows shown with `reasonsOf`.
 */
export async function riskAsOf(db: Db, orgId: string, asOf: IsoDate): Promise<Map<string, RiskRow>> {
  const run = await latestRunAsOf(db, orgId, asOf);
  if (run === null) return new Map();
  const rows = await db.all<RiskRow>(
    sql`select contact_id as contactId, as_of as asOf, score, grade, trend from scores
        where org_id = ${orgId} and as_of = ${run}`,
  );
  return new Map(rows.map((r) => [r.contactId, r]));
}

/** How many customers the scores of the latest run on or before `asOf` put at risk (see atRisk). */
export async function atRiskCount(db: Db, orgId: string, asOf: IsoDate): Promise<number> {
  const run = await latestRunAsOf(db, orgId, asOf);
  if (run === null) return 0;
  const [r] = await db.all<{ n: number }>(
    sql`select count(*) as n from scores where org_id = ${orgId} and as_of = ${run}
          and (grade in ('D', 'E') or trend = 'deteriorating')`,
  );
  return r?.n ?? 0;
}

/** The reasons of some customers' scores of one run (as_of), by contact id. */
export async function reasonsOf(
  db: Db,
  orgId: string,
  asOf: IsoDate,
  contactIds: string[],
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (let k = 0; k < contactIds.length; k += IN_CHUNK) {
    const ids = contactIds.slice(k, k + IN_CHUNK);
    const rows = await db
      .select({ contactId: scores.contactId, reasons: scores.reasons })
      .from(scores)
      .where(and(eq(scores.orgId, orgId), eq(scores.asOf, asOf), inArray(scores.contactId, ids)));
    for (const r of rows) out.set(r.contactId, r.reasons);
  }
  return out;
}

/** One customer's score of the latest run on or before `asOf`. */
export async function scoreOf(
  db: Db,
  orgId: string,
  contactId: string,
  asOf: IsoDate,
): Promise<ScoreRow | undefined> {
  const run = await latestRunAsOf(db, orgId, asOf);
  if (run === null) return undefined;
  const [r] = await db
    .select()
    .from(scores)
    .where(and(eq(scores.contactId, contactId), eq(scores.asOf, run), eq(scores.orgId, orgId)))
    .limit(1);
  return r;
}

/** A customer is at risk when graded D or E, or deteriorating. */
export const atRisk = (s: Pick<ScoreRow, "grade" | "trend"> | undefined) =>
  Boolean(s && (s.grade === "D" || s.grade === "E" || s.trend === "deteriorating"));

// The whole-ledger figures moved to the store (src/store/figures.ts), where the dashboard summary builds them.
export {
  type DsoGroup,
  type DsoPoint,
  dsoDates,
  dsoFromGroups,
  dsoSeries,
  overdueAt,
} from "../store/figures";

export type AuditRow = typeof auditLog.$inferSelect;

export async function auditFor(db: Db, orgId: string, contactId: string, limit = 200): Promise<AuditRow[]> {
  return db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.orgId, orgId), eq(auditLog.contactId, contactId)))
    .orderBy(desc(auditLog.at))
    .limit(limit);
}

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

export async function updateContact(
  db: Db,
  contactId: string,
  patch: Partial<
    Pick<ContactRow, "chasingPausedUntil" | "optedOut" | "creditLimitMinor" | "policyId" | "excluded">
  >,
  now: number,
) {
  await db
    .update(contacts)
    .set({ ...patch, updatedAt: now })
    .where(eq(contacts.id, contactId));
}

export interface InvoiceLine {
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

export interface PaymentLine {
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

export interface ReminderLine {
  emailId: string;
  contactExternalId: string;
  contactName: string;
  level: number;
  template: string;
  status: string;
  at: number;
  invoiceNumbers: string;
  lastError: string | null;
  messageId: string | null;
  smtpResponse: string | null;
  resolution: string | null;
  to: string | null;
}

/** Reminder emails (invoices grouped by email) of an organisation, or of one customer, newest first. */
export async function reminderEmails(
  db: Db,
  orgId: string,
  opts: { contactId?: string; statuses?: string[]; limit?: number } = {},
): Promise<ReminderLine[]> {
  const statusFilter = opts.statuses?.length
    ? sql`and r.status in (${sql.join(
        opts.statuses.map((s) => sql`${s}`),
        sql`, `,
      )})`
    : sql``;
  return db.all<ReminderLine>(sql`
    select r.email_id as emailId, c.external_id as contactExternalId, c.name as contactName, max(r.level) as level,
           max(r.template) as template, max(r.status) as status, max(coalesce(r.sent_at, r.updated_at)) as at,
           group_concat(i.number, ', ') as invoiceNumbers, max(r.last_error) as lastError,
           max(r.message_id) as messageId, max(r.smtp_response) as smtpResponse, max(r.resolution) as resolution,
           max(r.recipients) as "to"
    from reminders r join contacts c on c.id = r.contact_id join invoices i on i.id = r.invoice_id
    where r.org_id = ${orgId} ${opts.contactId ? sql`and r.contact_id = ${opts.contactId}` : sql``} ${statusFilter}
    group by r.email_id order by at desc limit ${opts.limit ?? 100}`);
}

export type HoldRow = typeof creditHolds.$inferSelect;

export async function holdsOf(db: Db, contactId: string): Promise<HoldRow[]> {
  return db.select().from(creditHolds).where(eq(creditHolds.contactId, contactId)).orderBy(creditHolds.at);
}

export type ConnectionRow = typeof connections.$inferSelect;

export async function connectionsOf(db: Db, orgId: string): Promise<ConnectionRow[]> {
  return db.select().from(connections).where(eq(connections.orgId, orgId));
}
