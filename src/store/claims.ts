/**
 * Reminder claims: the (invoice, level) rows an email claims before anything is sent, their outcome (sent,
 * failed, rejected, left for review), stale claims of a run that died, and a person's resolution of an email
 * left for review. Every write is one idempotent statement or runs inside `store.atomically`, so the same code
 * holds on D1.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import { audit } from "./audit";
import type { Db, Store } from "./db";
import { newId } from "./ids";
import { reminders } from "./schema";

export type ReminderRow = typeof reminders.$inferSelect;

export interface ClaimRequest {
  orgId: string;
  contactId: string;
  invoiceId: string;
  level: number;
  offsetDays: number;
  template: string;
  policyId: string;
}

export function newEmailId(): string {
  return newId("rem");
}

/**
 * Claims (invoice, level) rows for one email before anything is sent, a level being known by its day offset
 * (positions move when a policy is edited): a fresh row is inserted, a "failed" row (the server did not accept
 * it last time) is taken over; any other existing row is left alone. Returns the invoice ids this email won.
 */
export async function claimReminders(
  store: Store,
  emailId: string,
  requests: ClaimRequest[],
  now: number,
): Promise<Set<string>> {
  const won = new Set<string>();
  if (requests.length === 0) return won;
  await store.atomically(async () => {
    for (const r of requests) {
      const rows = await store.db
        .insert(reminders)
        .values({
          id: newId("rem"),
          orgId: r.orgId,
          contactId: r.contactId,
          invoiceId: r.invoiceId,
          level: r.level,
          offsetDays: r.offsetDays,
          template: r.template,
          policyId: r.policyId,
          emailId,
          status: "claimed",
          attempts: 1,
          claimedAt: now,
          updatedAt: now,
        })
        .onConflictDoUpdate({
          target: [reminders.invoiceId, reminders.offsetDays],
          set: {
            level: r.level,
            template: r.template,
            policyId: r.policyId,
            status: "claimed",
            emailId,
            claimedAt: now,
            updatedAt: now,
            attempts: sql`${reminders.attempts} + 1`,
          },
          setWhere: eq(reminders.status, "failed"),
        })
        .returning({ invoiceId: reminders.invoiceId });
      for (const x of rows) won.add(x.invoiceId);
    }
  });
  return won;
}

/** Gives claims back (the re-check found nothing to send for them): deletes still-"claimed" rows. */
export async function releaseClaims(db: Db, emailId: string, invoiceIds?: string[]): Promise<void> {
  await db
    .delete(reminders)
    .where(
      and(
        eq(reminders.emailId, emailId),
        eq(reminders.status, "claimed"),
        invoiceIds ? inArray(reminders.invoiceId, invoiceIds) : undefined,
      ),
    );
}

/** What a send did, as the claim records it (reminders and statements alike). */
export type ClaimOutcome =
  | { status: "sent"; messageId: string; recipients: string[] }
  | { status: "failed" | "rejected" | "needs_review"; error: string };

/** The columns an outcome sets on a claim row. */
export function outcomeColumns(outcome: ClaimOutcome, now: number) {
  return outcome.status === "sent"
    ? {
        status: outcome.status,
        messageId: outcome.messageId,
        recipients: outcome.recipients,
        sentAt: now,
        lastError: null,
        updatedAt: now,
      }
    : { status: outcome.status, lastError: outcome.error, updatedAt: now };
}

/** The columns a claim left "claimed" by a run that stopped takes: for review, never resent. */
export function stoppedRunColumns(now: number) {
  return {
    status: "needs_review" as const,
    lastError: "the run stopped before the outcome was recorded",
    updatedAt: now,
  };
}

export async function markEmail(
  db: Db,
  emailId: string,
  outcome: ClaimOutcome & { response?: string },
  now: number,
): Promise<void> {
  const set = {
    ...outcomeColumns(outcome, now),
    ...(outcome.status === "sent" ? { smtpResponse: outcome.response ?? null } : {}),
  };
  await db.update(reminders).set(set).where(eq(reminders.emailId, emailId));
}

/**
 * Claims still "claimed" after `before` belong to a run that died between claiming and recording: the SMTP
 * server may have accepted them, so they become "needs_review" and are never resent automatically.
 */
export async function flagStaleClaims(
  db: Db,
  orgId: string,
  before: number,
  now: number,
  /** At most this many (in id order); the rest stay stale for the next call. */
  limit?: number,
): Promise<ReminderRow[]> {
  const stale = and(
    eq(reminders.orgId, orgId),
    eq(reminders.status, "claimed"),
    sql`${reminders.claimedAt} < ${before}`,
  );
  return db
    .update(reminders)
    .set(stoppedRunColumns(now))
    .where(
      limit === undefined
        ? stale
        : and(
            stale,
            inArray(
              reminders.id,
              db.select({ id: reminders.id }).from(reminders).where(stale).orderBy(reminders.id).limit(limit),
            ),
          ),
    )
    .returning();
}

export async function remindersFor(db: Db, orgId: string): Promise<ReminderRow[]> {
  return db.select().from(reminders).where(eq(reminders.orgId, orgId));
}

/** How many reminder emails the customer was sent (accepted by the SMTP server) and when the last went. */
export async function reminderHistory(
  db: Db,
  contactId: string,
): Promise<{ count: number; lastSentAt: number | null }> {
  const rows = await db
    .select({
      count: sql<number>`count(distinct ${reminders.emailId})`,
      lastSentAt: sql<number | null>`max(${reminders.sentAt})`,
    })
    .from(reminders)
    .where(and(eq(reminders.contactId, contactId), eq(reminders.status, "sent")));
  return rows[0] ?? { count: 0, lastSentAt: null };
}

/**
 * A person resolves an email left for review (outcome unknown): "sent" records it as delivered (it then counts as
 * sent, e.g. for the final notice before a hold), "resend" lets the next run send it again. Only rows still
 * needing review change; returns how many did.
 */
export async function resolveReview(
  db: Db,
  orgId: string,
  emailId: string,
  resolution: "sent" | "resend",
  now: number,
): Promise<number> {
  const rows = await db
    .update(reminders)
    .set(
      resolution === "sent"
        ? { status: "sent", sentAt: sql`${reminders.claimedAt}`, resolution: "marked_sent", updatedAt: now }
        : { status: "failed", resolution: "resend", updatedAt: now },
    )
    .where(
      and(eq(reminders.orgId, orgId), eq(reminders.emailId, emailId), eq(reminders.status, "needs_review")),
    )
    .returning({ id: reminders.id, contactId: reminders.contactId });
  if (rows.length)
    await audit(
      db,
      {
        orgId,
        contactId: rows[0]!.contactId,
        actor: "reminders",
        action: resolution === "sent" ? "reminder.marked_sent" : "reminder.resend_allowed",
        detail: { emailId },
      },
      now,
    );
  return rows.length;
}
