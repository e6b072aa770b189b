/**
 * What the weekly digest reads that nothing else does (src/digest/load.ts assembles it with the shared
 * readers), and the digest's delivery rows: one per (user, ISO week), claimed before sending.
 */

import { and, eq, sql } from "drizzle-orm";
import type { IsoDate } from "../model";
import type { Db } from "./db";
import type { Organisation } from "./orgs";
import { digestDeliveries } from "./schema";
import { DETERIORATION_ALERT } from "./scores";

interface ContactRef {
  contact_id: string;
  external_id: string;
  name: string;
}

/** Deterioration alerts raised for scoring runs in (`after`, `asOf`], by customer name. */
export async function alertsBetween(
  db: Db,
  orgId: string,
  after: IsoDate,
  asOf: IsoDate,
): Promise<(ContactRef & { detail: string | null })[]> {
  return db.all(sql`
      select a.contact_id, c.external_id, c.name, a.detail from audit_log a join contacts c on c.id = a.contact_id
      where a.org_id = ${orgId} and a.action = ${DETERIORATION_ALERT}
        and coalesce(json_extract(a.detail, '$.asOf'), '') > ${after} and coalesce(json_extract(a.detail, '$.asOf'), '') <= ${asOf}
      order by c.name`);
}

/** Holds placed and released in [from, to) (epoch ms), in time order. */
export async function holdChangesBetween(
  db: Db,
  orgId: string,
  from: number,
  to: number,
): Promise<(ContactRef & { action: "place" | "release"; reason: string; at: number })[]> {
  return db.all(sql`
      select h.contact_id, c.external_id, c.name, h.action, h.reason, h.at from credit_holds h join contacts c on c.id = h.contact_id
      where h.org_id = ${orgId} and h.at >= ${from} and h.at < ${to} order by h.at`);
}

/** Reminder emails sent in [from, to): highest level, invoices covered, how many of those are paid now. */
export async function remindersSentBetween(
  db: Db,
  orgId: string,
  from: number,
  to: number,
): Promise<(ContactRef & { level: number; invoices: number; paid_since: number; sent_at: number })[]> {
  return db.all(sql`
      select r.contact_id, c.external_id, c.name, max(r.level) as level, count(*) as invoices,
             sum(case when i.status = 'paid' or i.amount_due_minor = 0 then 1 else 0 end) as paid_since, max(r.sent_at) as sent_at
      from reminders r join contacts c on c.id = r.contact_id join invoices i on i.id = r.invoice_id
      where r.org_id = ${orgId} and r.status = 'sent' and r.sent_at >= ${from} and r.sent_at < ${to}
      group by r.email_id order by c.name`);
}

/** Customers owing more (open, undisputed, base currency) than their credit limit, most over first. */
export async function limitBreaches(
  db: Db,
  org: Organisation,
): Promise<(ContactRef & { owed: number; credit_limit_minor: number })[]> {
  return db.all(sql`
      select c.id as contact_id, c.external_id, c.name, c.credit_limit_minor, sum(i.amount_due_minor) as owed
      from contacts c join invoices i on i.contact_id = c.id
      where c.org_id = ${org.id} and c.credit_limit_minor is not null and c.deleted = 0
        and i.status in ('authorised', 'submitted') and i.currency = ${org.baseCurrency} and i.disputed_at is null
      group by c.id having owed > c.credit_limit_minor order by owed - c.credit_limit_minor desc`);
}

/** Emails whose delivery is unknown (left for review, never resent): reminders and hold notices to the owner. */
export async function emailsLeftForReview(db: Db, orgId: string): Promise<number> {
  const review = await db.all<{ n: number }>(sql`
      select (select count(distinct email_id) from reminders where org_id = ${orgId} and status = 'needs_review')
           + (select count(*) from credit_holds where org_id = ${orgId} and owner_notice = 'needs_review') as n`);
  return review[0]?.n ?? 0;
}

/** Every contact's customer id and name (deleted ones too: a score may outlive its contact's listing). */
export async function contactNamesOf(
  db: Db,
  orgId: string,
): Promise<{ id: string; external_id: string; name: string }[]> {
  return db.all(sql`select id, external_id, name from contacts where org_id = ${orgId}`);
}

// --- deliveries ---

/** What a delivery row records about how the send went. */
export type DigestOutcome = Partial<
  Pick<typeof digestDeliveries.$inferInsert, "status" | "sentAt" | "messageId" | "lastError">
>;

/**
 * Claims the user's digest for `week`; false when it is claimed already. A week's row is claimed once; only a
 * send that certainly failed ("failed") may be claimed again.
 */
export async function claimDigest(
  db: Db,
  userId: string,
  week: string,
  asOf: IsoDate,
  now: number,
): Promise<boolean> {
  const claimed = await db
    .insert(digestDeliveries)
    .values({ userId, week, asOf, status: "claimed", claimedAt: now })
    .onConflictDoUpdate({
      target: [digestDeliveries.userId, digestDeliveries.week],
      set: { status: "claimed", claimedAt: now, lastError: null },
      setWhere: eq(digestDeliveries.status, "failed"),
    })
    .returning({ u: digestDeliveries.userId });
  return claimed.length > 0;
}

/** Records how a claimed digest went (sent, failed, rejected, needs_review). */
export async function markDigest(db: Db, userId: string, week: string, set: DigestOutcome): Promise<void> {
  await db
    .update(digestDeliveries)
    .set(set)
    .where(and(eq(digestDeliveries.userId, userId), eq(digestDeliveries.week, week)));
}
