/**
 * Credit-hold events: a customer moved onto or off hold (exactly once, with its audit entry), and the
 * follow-ups each event carries: the write-back to the ledger and the notice to the owner.
 */
import { and, desc, eq, inArray, sql } from "drizzle-orm";
import type { Db, Store } from "./db";
import { newId } from "./ids";
import { creditHolds } from "./schema";

export type CreditHoldRow = typeof creditHolds.$inferSelect;

/**
 * Moves a customer onto or off hold, exactly once: the state change is conditional on the current state, and
 * the event (with a pending write-back and owner notice) and the audit entry land with it. Returns the event,
 * or undefined when another run already made the change.
 */
export async function transitionHold(
  store: Store,
  t: {
    orgId: string;
    contactId: string;
    action: "place" | "release";
    reason: string;
    ownerNotice: boolean;
    /** Who did it ("user:<id>", "cli"); absent = a reminder run. */
    actor?: string;
    /** A placement by hand (not an approval): only a person releases it. */
    byHand?: boolean;
    /** Extra audit detail (who, which proposal). */
    detail?: Record<string, unknown>;
  },
  now: number,
): Promise<CreditHoldRow | undefined> {
  const from = t.action === "place" ? "none" : "on_hold";
  const to = t.action === "place" ? "on_hold" : "none";
  const id = newId("hld");
  const detail = JSON.stringify({ reason: t.reason, holdEventId: id, ...t.detail });
  // One all-or-nothing batch (a D1 batch on Workers, a transaction on SQLite): the state changes only from the
  // state the run read, and the hold event (which drives the write-back and the owner notice) and its audit
  // entry are written only when it did (`changes()` of the update), so neither can exist without the other.
  const [, inserted] = await store.batch([
    sql`update contacts set hold_state = ${to}, hold_changed_at = ${now}, updated_at = ${now}
        where id = ${t.contactId} and org_id = ${t.orgId} and hold_state = ${from}`,
    sql`insert into credit_holds (id, org_id, contact_id, action, reason, at, writeback_status, owner_notice,
          actor, by_hand)
        select ${id}, ${t.orgId}, ${t.contactId}, ${t.action}, ${t.reason}, ${now}, 'pending',
          ${t.ownerNotice ? "pending" : "none"}, ${t.actor ?? null}, ${t.byHand ? 1 : 0}
        where changes() = 1
        returning id`,
    sql`insert into audit_log (id, org_id, contact_id, actor, action, detail, at)
        select ${newId("aud")}, ${t.orgId}, ${t.contactId}, ${t.actor ?? "reminders"},
          ${t.action === "place" ? "credit_hold.placed" : "credit_hold.released"}, ${detail}, ${now}
        where exists (select 1 from credit_holds where id = ${id})`,
  ]);
  if (!inserted?.length) return undefined;
  return (await store.db.select().from(creditHolds).where(eq(creditHolds.id, id)))[0];
}

export async function recordWriteback(
  db: Db,
  holdId: string,
  status: "written" | "not_applicable" | "failed" | "superseded",
  detail: string | null,
): Promise<void> {
  await db
    .update(creditHolds)
    .set({
      writebackStatus: status,
      writebackDetail: detail,
      writebackAttempts: sql`${creditHolds.writebackAttempts} + 1`,
    })
    .where(eq(creditHolds.id, holdId));
}

/** Hold events whose write-back or owner notice is still to do (failed last time, or a run died). */
export async function unfinishedHolds(db: Db, orgId: string): Promise<CreditHoldRow[]> {
  return db
    .select()
    .from(creditHolds)
    .where(
      and(
        eq(creditHolds.orgId, orgId),
        sql`(${creditHolds.writebackStatus} in ('pending', 'failed') or ${creditHolds.ownerNotice} in ('pending', 'failed'))`,
      ),
    )
    .orderBy(creditHolds.at);
}

/** The latest hold event of a contact. */
export async function latestHold(db: Db, contactId: string): Promise<CreditHoldRow | undefined> {
  const rows = await db
    .select()
    .from(creditHolds)
    .where(eq(creditHolds.contactId, contactId))
    .orderBy(desc(creditHolds.at), desc(sql`rowid`))
    .limit(1);
  return rows[0];
}

/** Takes the owner notice of a hold event for sending (one taker wins). */
export async function claimOwnerNotice(db: Db, holdId: string, now: number): Promise<boolean> {
  const rows = await db
    .update(creditHolds)
    .set({ ownerNotice: "sending", ownerNoticeAt: now })
    .where(and(eq(creditHolds.id, holdId), inArray(creditHolds.ownerNotice, ["pending", "failed"])))
    .returning({ id: creditHolds.id });
  return rows.length > 0;
}

export async function recordOwnerNotice(
  db: Db,
  holdId: string,
  status: "sent" | "failed" | "needs_review" | "none",
  now: number,
) {
  await db
    .update(creditHolds)
    .set({ ownerNotice: status, ownerNoticeAt: now })
    .where(eq(creditHolds.id, holdId));
}

export async function holdEvents(db: Db, orgId: string): Promise<CreditHoldRow[]> {
  return db.select().from(creditHolds).where(eq(creditHolds.orgId, orgId)).orderBy(creditHolds.at);
}
