/**
 * Queries of the customers' page: the per-contact token nonce and reminder address, the open invoices it shows,
 * and the rate-limit counters. Pauses and broken promises live in store/pauses.ts, disputes in
 * store/disputes.ts; actions taken by customers land in the audit log with actor "customer" (store/audit.ts).
 */
import { randomBytes } from "node:crypto";
import { and, eq, inArray, lt, sql } from "drizzle-orm";
import type { IsoDate } from "../model";
import type { Db } from "./db";
import type { Organisation } from "./orgs";
import { activePauses } from "./pauses";
import { contacts, customerPortal, invoices, organisations, portalHits } from "./schema";

const OPEN = ["authorised", "submitted"] as const;

function randomNonce(): string {
  return randomBytes(16).toString("base64url");
}

// --- token nonce and reminder address ---

/** The contact's token nonce, created on first use. */
export async function ensurePortalNonce(
  db: Db,
  orgId: string,
  contactId: string,
  now: number,
): Promise<string> {
  await db
    .insert(customerPortal)
    .values({ contactId, orgId, nonce: randomNonce(), createdAt: now, updatedAt: now })
    .onConflictDoNothing();
  const rows = await db
    .select({ nonce: customerPortal.nonce })
    .from(customerPortal)
    .where(eq(customerPortal.contactId, contactId));
  return rows[0]!.nonce;
}

/** Revokes every page link already sent to this contact (the next reminder carries a new one). */
export async function rotatePortalNonce(
  db: Db,
  orgId: string,
  contactId: string,
  now: number,
): Promise<void> {
  const nonce = randomNonce();
  await db
    .insert(customerPortal)
    .values({ contactId, orgId, nonce, createdAt: now, updatedAt: now })
    .onConflictDoUpdate({ target: customerPortal.contactId, set: { nonce, updatedAt: now } });
}

export interface PortalContact {
  org: Organisation;
  contact: {
    id: string;
    externalId: string;
    name: string;
    emails: string[];
    optedOut: boolean;
    reminderEmail: string | null;
  };
}

/** The live contact a verified token names, when its nonce is still current; otherwise undefined. */
export async function findPortalContact(
  db: Db,
  orgId: string,
  contactId: string,
  nonce: string,
): Promise<PortalContact | undefined> {
  const rows = await db
    .select({
      org: organisations,
      id: contacts.id,
      externalId: contacts.externalId,
      name: contacts.name,
      emails: contacts.emails,
      optedOut: contacts.optedOut,
      deleted: contacts.deleted,
      reminderEmail: customerPortal.reminderEmail,
      nonce: customerPortal.nonce,
    })
    .from(contacts)
    .innerJoin(customerPortal, eq(customerPortal.contactId, contacts.id))
    .innerJoin(organisations, eq(organisations.id, contacts.orgId))
    .where(and(eq(contacts.id, contactId), eq(contacts.orgId, orgId)))
    .limit(1);
  const r = rows[0];
  if (!r || r.deleted || r.nonce !== nonce) return undefined;
  return {
    org: r.org,
    contact: {
      id: r.id,
      externalId: r.externalId,
      name: r.name,
      emails: r.emails,
      optedOut: r.optedOut,
      reminderEmail: r.reminderEmail,
    },
  };
}

/** Where reminders go instead of the ledger's addresses, per contact (the customer asked). */
export async function reminderEmailOverrides(
  db: Db,
  orgId: string,
  contactId?: string,
): Promise<Map<string, string>> {
  const rows = await db
    .select({ contactId: customerPortal.contactId, email: customerPortal.reminderEmail })
    .from(customerPortal)
    .where(
      and(
        eq(customerPortal.orgId, orgId),
        contactId ? eq(customerPortal.contactId, contactId) : undefined,
        sql`${customerPortal.reminderEmail} is not null`,
      ),
    );
  return new Map(rows.map((r) => [r.contactId, r.email!]));
}

export async function setReminderEmail(
  db: Db,
  orgId: string,
  contactId: string,
  email: string | null,
  now: number,
): Promise<void> {
  await db
    .insert(customerPortal)
    .values({ contactId, orgId, nonce: randomNonce(), reminderEmail: email, createdAt: now, updatedAt: now })
    .onConflictDoUpdate({ target: customerPortal.contactId, set: { reminderEmail: email, updatedAt: now } });
}

// --- invoices on the page ---

export interface PortalInvoice {
  id: string;
  number: string;
  issueDate: IsoDate;
  dueDate: IsoDate;
  currency: string;
  totalMinor: number;
  amountDueMinor: number;
  payUrl: string | null;
  disputedAt: number | null;
  /** The latest pause still running on `today`, if any. */
  pause: { kind: "paid" | "promise"; until: IsoDate } | null;
}

/** The contact's open invoices (oldest due first), with any running pause. */
export async function openInvoicesOf(
  db: Db,
  orgId: string,
  contactId: string,
  today: IsoDate,
): Promise<PortalInvoice[]> {
  const rows = await db
    .select({
      id: invoices.id,
      number: invoices.number,
      issueDate: invoices.issueDate,
      dueDate: invoices.dueDate,
      currency: invoices.currency,
      totalMinor: invoices.totalMinor,
      amountDueMinor: invoices.amountDueMinor,
      payUrl: invoices.payUrl,
      disputedAt: invoices.disputedAt,
    })
    .from(invoices)
    .where(
      and(
        eq(invoices.orgId, orgId),
        eq(invoices.contactId, contactId),
        inArray(invoices.status, [...OPEN]),
        sql`${invoices.amountDueMinor} > 0`,
      ),
    )
    .orderBy(invoices.dueDate, invoices.number);
  const pauses = await activePauses(db, orgId, today, contactId);
  return rows.map((r) => ({ ...r, pause: pauses.get(r.id) ?? null }));
}

/** One open invoice of this contact, or undefined (another customer's invoice is never found). */
export async function findOpenInvoice(db: Db, orgId: string, contactId: string, invoiceId: string) {
  const rows = await db
    .select({
      id: invoices.id,
      number: invoices.number,
      dueDate: invoices.dueDate,
      currency: invoices.currency,
      amountDueMinor: invoices.amountDueMinor,
      disputedAt: invoices.disputedAt,
    })
    .from(invoices)
    .where(
      and(
        eq(invoices.id, invoiceId),
        eq(invoices.orgId, orgId),
        eq(invoices.contactId, contactId),
        inArray(invoices.status, [...OPEN]),
        sql`${invoices.amountDueMinor} > 0`,
      ),
    )
    .limit(1);
  return rows[0];
}

// --- rate limiting ---

/**
 * Records one hit for `key` when it has fewer than `limit` since `since`, in one conditional statement (so
 * concurrent requests cannot all pass a check made before any was recorded). Returns whether allowed.
 */
export async function takeHit(
  db: Db,
  key: string,
  limit: number,
  since: number,
  now: number,
): Promise<boolean> {
  const rows = await db.all<{ id: number }>(
    sql`insert into portal_hits (key, at) select ${key}, ${now} where (select count(*) from portal_hits where key = ${key} and at >= ${since}) < ${limit} returning id`,
  );
  return rows.length === 1;
}

/** Forgets hits older than `before` (called now and then so the table stays small). */
export async function pruneHits(db: Db, before: number): Promise<void> {
  await db.delete(portalHits).where(lt(portalHits.at, before));
}
