/**
 * Reminder emails as the dashboard lists them (the reminders page, the customer timeline): the invoices of one
 * email grouped into one line. Moved here from the web layer (src/http/queries.ts).
 */
import { sql } from "drizzle-orm";
import type { Db } from "./db";

interface ReminderLine {
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
