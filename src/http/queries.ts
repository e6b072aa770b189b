/**
 * Reads for the dashboard and its JSON API: plain queries over the store, no decisions. Scores come from the
 * stored history (the nightly scoring run), so pages never rescore a ledger.
 */
import { and, desc, eq, inArray, sql } from "drizzle-orm";
import { addDays, type IsoDate } from "../model";
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

/**
 * Overdue per currency as it stood on `date`: invoices issued by then and due before it, less what had been
 * paid or credited by then (from the allocation dates). Disputed, void, draft and deleted invoices excluded.
 */
export async function overdueAt(db: Db, orgId: string, date: IsoDate): Promise<Map<string, number>> {
  // Not settled by `date` = paid_on null or after it: two ranges of the paid-on index, one branch each.
  const unsettled = (settled: ReturnType<typeof sql>) => sql`
    select id, currency, total_minor from invoices
    where org_id = ${orgId} and ${settled} and status in ('authorised', 'submitted', 'paid') and disputed_at is null
      and issue_date <= ${date} and due_date < ${date}`;
  const rows = await db.all<{ currency: string; overdue: number }>(sql`
    select i.currency as currency, sum(max(0, i.total_minor
      - coalesce((select sum(pa.amount_minor) from payment_allocations pa join payments p on p.id = pa.payment_id
                  where pa.invoice_id = i.id and p.deleted = 0 and pa.date <= ${date}), 0)
      - coalesce((select sum(ca.amount_minor) from credit_note_allocations ca
                  where ca.invoice_id = i.id and ca.date <= ${date}), 0))) as overdue
    from (${unsettled(sql`paid_on is null`)} union all ${unsettled(sql`paid_on > ${date}`)}) i
    group by i.currency`);
  return new Map(rows.map((r) => [r.currency, r.overdue]));
}

export interface DsoPoint {
  month: string;
  date: IsoDate;
  dso: number | null;
}

/** The month ends of the `months` - 1 months before `asOf`, then `asOf` itself: the dates of a DSO series. */
export function dsoDates(asOf: IsoDate, months: number): IsoDate[] {
  const dates: IsoDate[] = [];
  const [y, m] = asOf.split("-").map(Number) as [number, number];
  for (let k = months - 1; k >= 1; k--) {
    const end = new Date(Date.UTC(y, m - 1 - k + 1, 0)); // last day of the month k months back
    dates.push(end.toISOString().slice(0, 10));
  }
  dates.push(asOf);
  return dates;
}

/** Invoices that count as credit sales and receivables. */
const DSO_STATUSES = new Set(["authorised", "submitted", "paid"]);

/** One group of invoices with the same issue date and settlement date. */
export interface DsoGroup {
  issueDate: IsoDate;
  paidOn: IsoDate | null;
  /** Total less credited, summed. */
  receivable: number;
  /** Total, summed. */
  sales: number;
}

/**
 * DSO at each date from invoice groups: receivables at the date (issued by then, not settled by then) / credit
 * sales of the 90 days up to it x 90. Pure, so the store reads each invoice once whatever the number of dates.
 */
export function dsoFromGroups(groups: Iterable<DsoGroup>, dates: IsoDate[]): DsoPoint[] {
  const ar = dates.map(() => 0);
  const sales = dates.map(() => 0);
  const salesFrom = dates.map((d) => addDays(d, -90)); // exclusive
  for (const g of groups) {
    for (let i = 0; i < dates.length; i++) {
      const d = dates[i]!;
      if (g.issueDate > d) continue;
      if (g.paidOn === null || g.paidOn > d) ar[i]! += g.receivable;
      if (g.issueDate > salesFrom[i]!) sales[i]! += g.sales;
    }
  }
  return dates.map((date, i) => ({
    month: date.slice(0, 7),
    date,
    dso: sales[i]! > 0 ? Math.round((ar[i]! / sales[i]!) * 90) : null,
  }));
}

/**
 * Days sales outstanding at each of the last `months` month ends (the last point is `asOf`), in the base
 * currency: receivables at the date / credit sales of the 90 days before it x 90. Receivables count an invoice
 * until the date it was fully settled. One pass over the issue-date index, grouped in index order (no sort),
 * then summed per date in JS.
 */
export async function dsoSeries(db: Db, org: Organisation, asOf: IsoDate, months = 12): Promise<DsoPoint[]> {
  const dates = dsoDates(asOf, months);
  const first = dates[0] ?? asOf;
  // An invoice issued before the first sales window counts only as a receivable, so only when it was still
  // unsettled at the first date: the others are skipped before grouping (most of an older ledger).
  // Status is a grouping column, so the void, draft and deleted groups are dropped here rather than testing
  // every invoice's status in SQL.
  const groups = await db.all<DsoGroup & { status: string }>(
    sql`select issue_date as issueDate, status, paid_on as paidOn, sum(total_minor - amount_credited_minor) as receivable,
          sum(total_minor) as sales
        from invoices
        where org_id = ${org.id} and currency = ${org.baseCurrency}
          and issue_date >= ${addDays(first, -400)} and issue_date <= ${asOf}
          and (issue_date > ${addDays(first, -90)} or paid_on is null or paid_on > ${first})
        group by issue_date, status, paid_on`,
  );
  return dsoFromGroups(
    groups.filter((g) => DSO_STATUSES.has(g.status)),
    dates,
  );
}

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
           group_concat(i.number, ', ') as invoiceNumbers, max(r.last_error) as lastError
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
