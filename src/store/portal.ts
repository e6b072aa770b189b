/**
 * Queries of the customers' page: the per-contact token nonce and reminder address, per-invoice pauses
 * ("I've already paid", "I'll pay by"), disputes and their resolution, broken promises, and the rate-limit
 * counters. Actions taken by customers land in the audit log with actor "customer".
 */
import { randomBytes } from "node:crypto";
import { and, desc, eq, gte, inArray, isNull, lt, sql } from "drizzle-orm";
import type { IsoDate } from "../model";
import { audit } from "./audit";
import type { Db, Store } from "./db";
import { newId } from "./ids";
import type { Organisation } from "./orgs";
import {
  auditLog,
  contacts,
  customerPortal,
  invoiceDisputes,
  invoicePauses,
  invoices,
  organisations,
  portalHits,
} from "./schema";

/** Audit actions written by the customers' page and the runs that follow it up. */
export const CUSTOMER_ACTIONS = {
  paid: "customer.paid_reported",
  promised: "customer.promised",
  disputed: "customer.disputed",
  addressChanged: "customer.reminder_address_changed",
  optedOut: "customer.opted_out",
  promiseBroken: "customer.promise_broken",
  ownerNotified: "customer.owner_notified",
  ownerNoticeSkipped: "customer.owner_notice_skipped",
  ownerNoticeFailed: "customer.owner_notice_failed",
  disputeResolved: "invoice.dispute_resolved",
} as const;

export const CUSTOMER_ACTOR = "customer";

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

/** The contact's token nonce if it has one (read-only: dry runs and previews). */
export async function portalNonce(db: Db, contactId: string): Promise<string | undefined> {
  const rows = await db
    .select({ nonce: customerPortal.nonce })
    .from(customerPortal)
    .where(eq(customerPortal.contactId, contactId));
  return rows[0]?.nonce;
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

// --- pauses ---

export type PauseKind = "paid" | "promise";

export interface InvoicePause {
  kind: PauseKind;
  /** Inclusive. */
  until: IsoDate;
}

export async function addPause(
  db: Db,
  p: {
    orgId: string;
    contactId: string;
    invoiceId: string;
    kind: PauseKind;
    until: IsoDate;
    paidOn?: IsoDate | null;
    reference?: string | null;
  },
  now: number,
): Promise<string> {
  const id = newId("pau");
  await db.insert(invoicePauses).values({
    id,
    orgId: p.orgId,
    contactId: p.contactId,
    invoiceId: p.invoiceId,
    kind: p.kind,
    until: p.until,
    paidOn: p.paidOn ?? null,
    reference: p.reference ?? null,
    createdAt: now,
  });
  return id;
}

/**
 * Pauses still running on or after `from` (the earliest local date a customer can be on), the latest per
 * invoice: what planning and the re-read before sending honour.
 */
export async function activePauses(
  db: Db,
  orgId: string,
  from: IsoDate,
  contactId?: string,
): Promise<Map<string, InvoicePause>> {
  const rows = await db
    .select({ invoiceId: invoicePauses.invoiceId, kind: invoicePauses.kind, until: invoicePauses.until })
    .from(invoicePauses)
    .where(
      and(
        eq(invoicePauses.orgId, orgId),
        contactId ? eq(invoicePauses.contactId, contactId) : undefined,
        gte(invoicePauses.until, from),
      ),
    );
  const out = new Map<string, InvoicePause>();
  for (const r of rows) {
    const prev = out.get(r.invoiceId);
    if (!prev || r.until > prev.until) out.set(r.invoiceId, { kind: r.kind, until: r.until });
  }
  return out;
}

export interface BrokenPromise {
  pauseId: string;
  contactId: string;
  invoiceId: string;
  invoiceNumber: string;
  promisedBy: IsoDate;
  amountDueMinor: number;
  currency: string;
}

/**
 * Flags, once each, the promises to pay whose date is before `today` while the invoice is still open: sets
 * `broken_at` conditionally (one taker wins) and writes "customer.promise_broken" to the audit log. A later
 * promise on the same invoice that is still running keeps the earlier one from being flagged.
 */
export async function flagBrokenPromises(
  store: Store,
  org: Pick<Organisation, "id">,
  today: IsoDate,
  now: number,
): Promise<BrokenPromise[]> {
  const { db } = store;
  const candidates = await db
    .select({
      pauseId: invoicePauses.id,
      contactId: invoicePauses.contactId,
      invoiceId: invoicePauses.invoiceId,
      promisedBy: invoicePauses.until,
      invoiceNumber: invoices.number,
      amountDueMinor: invoices.amountDueMinor,
      currency: invoices.currency,
    })
    .from(invoicePauses)
    .innerJoin(invoices, eq(invoices.id, invoicePauses.invoiceId))
    .where(
      and(
        eq(invoicePauses.orgId, org.id),
        eq(invoicePauses.kind, "promise"),
        isNull(invoicePauses.brokenAt),
        lt(invoicePauses.until, today),
        inArray(invoices.status, [...OPEN]),
        sql`${invoices.amountDueMinor} > 0`,
        isNull(invoices.disputedAt),
        sql`not exists (select 1 from invoice_pauses p2 where p2.invoice_id = ${invoicePauses.invoiceId}
                        and p2.kind = 'promise' and p2.until >= ${today})`,
      ),
    );
  const flagged: BrokenPromise[] = [];
  for (const c of candidates) {
    await store.atomically(async () => {
      const won = await db
        .update(invoicePauses)
        .set({ brokenAt: now })
        .where(and(eq(invoicePauses.id, c.pauseId), isNull(invoicePauses.brokenAt)))
        .returning({ id: invoicePauses.id });
      if (won.length === 0) return;
      await audit(
        db,
        {
          orgId: org.id,
          contactId: c.contactId,
          invoiceId: c.invoiceId,
          actor: "reminders",
          action: CUSTOMER_ACTIONS.promiseBroken,
          detail: {
            pauseId: c.pauseId,
            invoiceNumber: c.invoiceNumber,
            promisedBy: c.promisedBy,
            amountDueMinor: c.amountDueMinor,
            currency: c.currency,
            flaggedOn: today,
          },
        },
        now,
      );
      flagged.push(c);
    });
  }
  return flagged;
}

/** Broken promises on record (newest first), optionally since an instant: for the digest and the monitor. */
export async function brokenPromises(db: Db, orgId: string, since = 0) {
  return db
    .select({
      contactId: auditLog.contactId,
      invoiceId: auditLog.invoiceId,
      at: auditLog.at,
      detail: auditLog.detail,
    })
    .from(auditLog)
    .where(
      and(
        eq(auditLog.orgId, orgId),
        eq(auditLog.action, CUSTOMER_ACTIONS.promiseBroken),
        gte(auditLog.at, since),
      ),
    )
    .orderBy(desc(auditLog.at));
}

// --- disputes ---

/** Marks the invoice disputed (no reminders, out of the exposure) and records why. Returns the dispute id. */
export async function recordDispute(
  store: Store,
  d: { orgId: string; contactId: string; invoiceId: string; reason: string; comment: string | null },
  now: number,
): Promise<string> {
  const id = newId("dsp");
  await store.atomically(async () => {
    await store.db
      .update(invoices)
      .set({ disputedAt: now })
      .where(and(eq(invoices.id, d.invoiceId), eq(invoices.orgId, d.orgId), isNull(invoices.disputedAt)));
    await store.db.insert(invoiceDisputes).values({
      id,
      orgId: d.orgId,
      contactId: d.contactId,
      invoiceId: d.invoiceId,
      reason: d.reason,
      comment: d.comment,
      createdAt: now,
    });
  });
  return id;
}

/** Open (unresolved) disputes of an organisation, newest first: for the dashboard. */
export async function openDisputes(db: Db, orgId: string) {
  return db
    .select()
    .from(invoiceDisputes)
    .where(and(eq(invoiceDisputes.orgId, orgId), isNull(invoiceDisputes.resolvedAt)))
    .orderBy(desc(invoiceDisputes.createdAt));
}

/**
 * A bookkeeper resolves a dispute: the invoice is chased and counted again from the next run. `by` names who
 * (a user id or email) for the audit log. Returns false when the invoice had no open dispute.
 */
export async function resolveDispute(
  store: Store,
  r: { orgId: string; invoiceId: string; by: string; resolution?: string | null },
  now: number,
): Promise<boolean> {
  return store.atomically(async () => {
    const cleared = await store.db
      .update(invoices)
      .set({ disputedAt: null })
      .where(
        and(
          eq(invoices.id, r.invoiceId),
          eq(invoices.orgId, r.orgId),
          sql`${invoices.disputedAt} is not null`,
        ),
      )
      .returning({ contactId: invoices.contactId, number: invoices.number });
    const resolved = await store.db
      .update(invoiceDisputes)
      .set({ resolvedAt: now, resolvedBy: r.by, resolution: r.resolution ?? null })
      .where(
        and(
          eq(invoiceDisputes.invoiceId, r.invoiceId),
          eq(invoiceDisputes.orgId, r.orgId),
          isNull(invoiceDisputes.resolvedAt),
        ),
      )
      .returning({ id: invoiceDisputes.id, contactId: invoiceDisputes.contactId });
    const c = cleared[0];
    if (!c && resolved.length === 0) return false;
    await audit(
      store.db,
      {
        orgId: r.orgId,
        contactId: c?.contactId ?? resolved[0]?.contactId ?? null,
        invoiceId: r.invoiceId,
        actor: r.by,
        action: CUSTOMER_ACTIONS.disputeResolved,
        detail: {
          invoiceNumber: c?.number ?? null,
          disputeIds: resolved.map((x) => x.id),
          resolution: r.resolution ?? null,
        },
      },
      now,
    );
    return true;
  });
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
