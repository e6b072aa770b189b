/**
 * SMS reminders: the claim taken per (invoice, level offset) before the provider is called (so a level's SMS
 * never goes twice), its outcome, and STOP / START consent per number. One statement per write (D1-safe).
 */
import { and, eq, gte, inArray, lt } from "drizzle-orm";
import type { Db, Store } from "./db";
import { newId } from "./ids";
import { contacts, organisations, smsOptOuts, smsSends } from "./schema";

export type SmsSendRow = typeof smsSends.$inferSelect;
export type SmsStatus = SmsSendRow["status"];

/**
 * Claims an SMS for these (invoice, offset) pairs; returns the invoices won (empty: another run had them all).
 */
export async function claimSms(
  store: Store,
  smsId: string,
  rows: { orgId: string; contactId: string; invoiceId: string; offsetDays: number; level: number }[],
  now: number,
): Promise<Set<string>> {
  const won = new Set<string>();
  for (const r of rows) {
    const inserted = await store.db
      .insert(smsSends)
      .values({ id: newId("sms"), smsId, ...r, status: "claimed", claimedAt: now })
      .onConflictDoNothing()
      .returning({ invoiceId: smsSends.invoiceId });
    for (const i of inserted) won.add(i.invoiceId);
  }
  return won;
}

/** Records what became of a claimed SMS (every row of it). */
export async function recordSms(
  db: Db,
  smsId: string,
  outcome: {
    status: Exclude<SmsStatus, "claimed">;
    to?: string | null;
    providerId?: string | null;
    reason?: string | null;
  },
  now: number,
): Promise<void> {
  await db
    .update(smsSends)
    .set({
      status: outcome.status,
      toNumber: outcome.to ?? null,
      providerId: outcome.providerId ?? null,
      reason: outcome.reason ?? null,
      ...(outcome.status === "sent" ? { sentAt: now } : {}),
    })
    .where(eq(smsSends.smsId, smsId));
}

/** A customer's phone number and the organisation's country (the number's default country). */
export async function smsContact(db: Db, contactId: string) {
  const [row] = await db
    .select({ phone: contacts.phone, country: organisations.country })
    .from(contacts)
    .innerJoin(organisations, eq(organisations.id, contacts.orgId))
    .where(eq(contacts.id, contactId))
    .limit(1);
  return row;
}

export async function isSmsOptedOut(db: Db, number: string): Promise<boolean> {
  const [row] = await db.select().from(smsOptOuts).where(eq(smsOptOuts.number, number)).limit(1);
  return row?.optedOut ?? false;
}

/** Stores a STOP (optedOut) or START reply for a number. */
export async function setSmsConsent(
  db: Db,
  number: string,
  optedOut: boolean,
  source: string,
  now: number,
): Promise<void> {
  await db
    .insert(smsOptOuts)
    .values({ number, optedOut, source, updatedAt: now })
    .onConflictDoUpdate({ target: smsOptOuts.number, set: { optedOut, source, updatedAt: now } });
}

/** The SMS rows of a customer (newest first), for the customer page and tests. */
export async function smsOf(db: Db, contactIds: string[]): Promise<SmsSendRow[]> {
  if (contactIds.length === 0) return [];
  return db
    .select()
    .from(smsSends)
    .where(inArray(smsSends.contactId, contactIds))
    .orderBy(smsSends.claimedAt);
}

export async function smsByOrg(db: Db, orgId: string, status?: SmsStatus): Promise<SmsSendRow[]> {
  return db
    .select()
    .from(smsSends)
    .where(and(eq(smsSends.orgId, orgId), status ? eq(smsSends.status, status) : undefined))
    .orderBy(smsSends.claimedAt);
}

/** The id one SMS's claim rows share. */
export const newSmsId = () => newId("sms");

/**
 * SMS the provider certainly did not take ("failed": rate limited, bad credentials, unreachable), first tried
 * from `since` up to (not including) `before`.
 */
export async function failedSmsGroups(db: Db, orgId: string, since: number, before: number) {
  const rows = await db
    .select()
    .from(smsSends)
    .where(
      and(
        eq(smsSends.orgId, orgId),
        eq(smsSends.status, "failed"),
        gte(smsSends.claimedAt, since),
        lt(smsSends.claimedAt, before),
      ),
    )
    .orderBy(smsSends.claimedAt);
  const groups = new Map<
    string,
    { smsId: string; contactId: string; level: number; offsetDays: number; invoiceIds: string[] }
  >();
  for (const r of rows) {
    const g = groups.get(r.smsId) ?? {
      smsId: r.smsId,
      contactId: r.contactId,
      level: r.level,
      offsetDays: r.offsetDays,
      invoiceIds: [],
    };
    g.invoiceIds.push(r.invoiceId);
    groups.set(r.smsId, g);
  }
  return [...groups.values()];
}

/** Takes a failed SMS for another attempt (one taker wins). */
export async function reclaimSms(db: Db, smsId: string): Promise<boolean> {
  const rows = await db
    .update(smsSends)
    .set({ status: "claimed" })
    .where(and(eq(smsSends.smsId, smsId), eq(smsSends.status, "failed")))
    .returning({ id: smsSends.id });
  return rows.length > 0;
}
