/**
 * Queries of scheduled statements: the schedule (organisation-wide, and per customer), the customers a run
 * considers, and the (customer, period) claims with their outcome. A claim is one idempotent statement, so the
 * same code holds on D1.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import type { StatementSetting } from "../model";
import { type ClaimOutcome, outcomeColumns, stoppedRunColumns } from "./claims";
import type { Db } from "./db";
import { newId } from "./ids";
import { contacts, invoices, reminderSettings, statementSends } from "./schema";

export type StatementSendRow = typeof statementSends.$inferSelect;

const OPEN = ["authorised", "submitted"] as const;

export interface StatementSettings {
  /** The organisation's schedule; null = statements are off (the default). */
  schedule: StatementSetting | null;
  /** Per-customer settings (contact id -> schedule or off). */
  customers: Map<string, StatementSetting>;
}

export async function loadStatementSettings(db: Db, orgId: string): Promise<StatementSettings> {
  const [org] = await db
    .select({ schedule: reminderSettings.statementSchedule })
    .from(reminderSettings)
    .where(eq(reminderSettings.orgId, orgId))
    .limit(1);
  const rows = await db
    .select({ id: contacts.id, schedule: contacts.statementSchedule })
    .from(contacts)
    .where(and(eq(contacts.orgId, orgId), sql`${contacts.statementSchedule} is not null`));
  return {
    schedule: org?.schedule ?? null,
    customers: new Map(rows.map((r) => [r.id, r.schedule!])),
  };
}

/** Sets the organisation's schedule (null: off). The reminder settings row must exist (ensureReminderSetup). */
export async function setOrgStatementSchedule(
  db: Db,
  orgId: string,
  schedule: StatementSetting | null,
  now: number,
): Promise<boolean> {
  const rows = await db
    .update(reminderSettings)
    .set({ statementSchedule: schedule, updatedAt: now })
    .where(eq(reminderSettings.orgId, orgId))
    .returning({ orgId: reminderSettings.orgId });
  return rows.length > 0;
}

/** Sets one customer's schedule (null: follow the organisation). False when the customer is not the org's. */
export async function setCustomerStatementSchedule(
  db: Db,
  orgId: string,
  contactId: string,
  schedule: StatementSetting | null,
  now: number,
): Promise<boolean> {
  const rows = await db
    .update(contacts)
    .set({ statementSchedule: schedule, updatedAt: now })
    .where(and(eq(contacts.orgId, orgId), eq(contacts.id, contactId)))
    .returning({ id: contacts.id });
  return rows.length > 0;
}

export interface StatementCustomer {
  id: string;
  externalId: string;
  name: string;
  emails: string[];
  timezone: string | null;
  optedOut: boolean;
  excluded: boolean;
}

/** Live customers owing something on an open invoice (the only ones a statement run writes to), in id order. */
export async function statementCustomers(db: Db, orgId: string): Promise<StatementCustomer[]> {
  return db
    .select({
      id: contacts.id,
      externalId: contacts.externalId,
      name: contacts.name,
      emails: contacts.emails,
      timezone: contacts.timezone,
      optedOut: contacts.optedOut,
      excluded: contacts.excluded,
    })
    .from(contacts)
    .where(
      and(
        eq(contacts.orgId, orgId),
        eq(contacts.deleted, false),
        sql`${contacts.isCustomer} is not 0`,
        sql`exists (select 1 from ${invoices} where ${invoices.contactId} = ${contacts.id}
          and ${inArray(invoices.status, [...OPEN])} and ${invoices.amountDueMinor} > 0)`,
      ),
    )
    .orderBy(contacts.id);
}

/**
 * Claims (customer, period) before anything is sent: a fresh row is inserted, a "failed" row (the server did not
 * accept it last time) is taken over; any other row (sent, rejected, left for review, or claimed by a run in
 * flight) is left alone. Returns the claim's id when this run won it.
 */
export async function claimStatement(
  db: Db,
  c: { orgId: string; contactId: string; period: string },
  now: number,
): Promise<string | undefined> {
  const id = newId("stm");
  const rows = await db
    .insert(statementSends)
    .values({ id, ...c, status: "claimed", attempts: 1, claimedAt: now, updatedAt: now })
    .onConflictDoUpdate({
      target: [statementSends.contactId, statementSends.period],
      set: {
        id,
        status: "claimed",
        claimedAt: now,
        updatedAt: now,
        lastError: null,
        attempts: sql`${statementSends.attempts} + 1`,
      },
      setWhere: eq(statementSends.status, "failed"),
    })
    .returning({ id: statementSends.id });
  return rows[0]?.id;
}

/** Gives a claim back when the re-check found nothing to send (only while it is still "claimed"). */
export async function releaseStatement(db: Db, id: string): Promise<void> {
  await db.delete(statementSends).where(and(eq(statementSends.id, id), eq(statementSends.status, "claimed")));
}

export async function markStatement(
  db: Db,
  id: string,
  outcome: ClaimOutcome & { totals?: { currency: string; minor: number }[] },
  now: number,
): Promise<void> {
  const set = { ...outcomeColumns(outcome, now), ...(outcome.totals ? { totals: outcome.totals } : {}) };
  await db.update(statementSends).set(set).where(eq(statementSends.id, id));
}

/**
 * Claims still "claimed" after `before` belong to a run that died between claiming and recording: the mail
 * server may have taken them, so they are left for review and never resent automatically.
 */
export async function flagStaleStatements(
  db: Db,
  orgId: string,
  before: number,
  now: number,
): Promise<StatementSendRow[]> {
  return db
    .update(statementSends)
    .set({
      status: "needs_review",
      lastError: "the run stopped before the outcome was recorded",
      updatedAt: now,
    })
    .where(
      and(
        eq(statementSends.orgId, orgId),
        eq(statementSends.status, "claimed"),
        sql`${statementSends.claimedAt} < ${before}`,
      ),
    )
    .returning();
}

/** The statement rows of an organisation (newest period first), for the CLI and tests. */
export async function statementSendsOf(db: Db, orgId: string): Promise<StatementSendRow[]> {
  return db
    .select()
    .from(statementSends)
    .where(eq(statementSends.orgId, orgId))
    .orderBy(sql`${statementSends.period} desc`, statementSends.contactId);
}

/**
 * The (customer, period) pairs of these periods that are not to be claimed again: sent, rejected, left for
 * review or claimed by a run in flight (everything but "failed"), as `${contactId}|${period}`.
 */
export async function statementPeriodsTaken(db: Db, orgId: string, periods: string[]): Promise<Set<string>> {
  if (periods.length === 0) return new Set();
  const rows = await db
    .select({ contactId: statementSends.contactId, period: statementSends.period })
    .from(statementSends)
    .where(
      and(
        eq(statementSends.orgId, orgId),
        inArray(statementSends.period, periods),
        sql`${statementSends.status} <> 'failed'`,
      ),
    );
  return new Set(rows.map((r) => `${r.contactId}|${r.period}`));
}
