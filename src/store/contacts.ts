/**
 * Contacts (the ledger's customers): written from canonical records by the keyed upsert, their store ids by
 * external id, and the flags Creditpulse keeps on them (a customer's opt-out).
 */
import { and, eq } from "drizzle-orm";
import type { CanonicalContact } from "../model";
import type { Db, Store } from "./db";
import { newId } from "./ids";
import { contacts } from "./schema";
import { idsByExternal, type UpsertCounts, upsertKeyed } from "./upsert";

export function contactIds(store: Store, orgId: string, externalIds: string[]): Promise<Map<string, string>> {
  return idsByExternal(store.db, contacts, orgId, externalIds, store.maxParams);
}

export interface ContactUpsertOptions {
  /**
   * Write credit limit and timezone too (the source knows them); otherwise existing values, which the user may
   * have set in Creditpulse, are kept. By default a field is written when any row of the batch defines it:
   * a connector whose ledger has no credit limit leaves `creditLimitMinor` undefined and never wipes it.
   */
  withLimits?: boolean;
}

export async function upsertContacts(
  store: Store,
  orgId: string,
  rows: CanonicalContact[],
  now: number,
  opts: ContactUpsertOptions = {},
): Promise<UpsertCounts> {
  const withLimit = opts.withLimits ?? rows.some((r) => r.creditLimitMinor !== undefined);
  const withZone = opts.withLimits ?? rows.some((r) => r.timezone !== undefined);
  const withRoles = rows.some((r) => r.isCustomer !== undefined || r.isSupplier !== undefined);
  const withBalance = rows.some((r) => r.providerBalance !== undefined);
  const values = rows.map((c) => ({
    id: newId("cus"),
    orgId,
    externalId: c.externalId,
    name: c.name,
    emails: c.emails,
    phone: c.phone ?? null,
    ...(withLimit ? { creditLimitMinor: c.creditLimitMinor ?? null } : {}),
    ...(withZone ? { timezone: c.timezone ?? null } : {}),
    ...(withRoles ? { isCustomer: c.isCustomer ?? null, isSupplier: c.isSupplier ?? null } : {}),
    ...(withBalance
      ? {
          providerBalanceMinor: c.providerBalance?.outstandingMinor ?? null,
          providerOverdueMinor: c.providerBalance?.overdueMinor ?? null,
          providerBalanceCurrency: c.providerBalance?.currency ?? null,
        }
      : {}),
    deleted: c.deleted ?? false,
    providerUpdatedAt: c.providerUpdatedAt ?? null,
    createdAt: now,
    updatedAt: now,
  }));
  const tracked = ["name", "emails", "phone", "deleted", "providerUpdatedAt"];
  if (withLimit) tracked.push("creditLimitMinor");
  if (withZone) tracked.push("timezone");
  if (withRoles) tracked.push("isCustomer", "isSupplier");
  if (withBalance) tracked.push("providerBalanceMinor", "providerOverdueMinor", "providerBalanceCurrency");
  return upsertKeyed(store, contacts, values, tracked);
}

export async function findContactByExternalId(db: Db, orgId: string, externalId: string) {
  const rows = await db
    .select({ id: contacts.id })
    .from(contacts)
    .where(and(eq(contacts.orgId, orgId), eq(contacts.externalId, externalId)))
    .limit(1);
  return rows[0];
}

/** Opts the contact out of reminders (the ledger sync never changes this flag). */
export async function optOutContact(db: Db, orgId: string, contactId: string, now: number): Promise<boolean> {
  const rows = await db
    .update(contacts)
    .set({ optedOut: true, updatedAt: now })
    .where(and(eq(contacts.id, contactId), eq(contacts.orgId, orgId), eq(contacts.optedOut, false)))
    .returning({ id: contacts.id });
  return rows.length > 0;
}

/** A contact's addresses from their stored JSON text ([] when it is not a list of strings). */
export function parseEmails(text: string): string[] {
  // The common case, one plain address: no JSON.parse (planning reads every contact that owes something).
  if (text.length > 4 && text.startsWith('["') && text.endsWith('"]')) {
    const inner = text.slice(2, -2);
    if (!inner.includes('"') && !inner.includes("\\")) return [inner];
  }
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
  } catch {
    return [];
  }
}
