/**
 * Late-payment charges: the organisation's charge settings, what the charge run reads about each overdue invoice
 * (money applied with dates, the reminder level reached, dispute, promise, earlier charges), proposals (unique per
 * invoice, kind and period), a person's decision, and the ledger write: claimed by one conditional update
 * before the connector is called, recorded after. Every write is one statement (or `store.atomically`), so the
 * same code holds on D1.
 */
import { and, eq, inArray, isNull, lt, or, sql } from "drizzle-orm";
import type { IsoDate } from "../model";
import { audit } from "./audit";
import type { Db, Store } from "./db";
import { newId } from "./ids";
import {
  chargeSettings,
  charges,
  contacts,
  creditNoteAllocations,
  invoicePauses,
  invoices,
  paymentAllocations,
  reminders,
} from "./schema";

export type ChargeRow = typeof charges.$inferSelect;
export type ChargeStatus = ChargeRow["status"];

export interface ChargeSettings {
  /** The stored rule (checked by src/reminders/charge-settings.ts); null = charges are off. */
  rule: Record<string, unknown> | null;
  ledgerStatus: "DRAFT" | "AUTHORISED";
  ledgerAccount: string | null;
  smsTemplate: string | null;
}

export async function loadChargeSettings(db: Db, orgId: string): Promise<ChargeSettings> {
  const [row] = await db.select().from(chargeSettings).where(eq(chargeSettings.orgId, orgId)).limit(1);
  return {
    rule: row?.rule ?? null,
    ledgerStatus: row?.ledgerStatus ?? "DRAFT",
    ledgerAccount: row?.ledgerAccount ?? null,
    smsTemplate: row?.smsTemplate ?? null,
  };
}

/** Saves some of the settings (the others keep their values) with an audit entry. */
export async function saveChargeSettings(
  store: Store,
  orgId: string,
  change: Partial<ChargeSettings>,
  actor: string,
  now: number,
): Promise<void> {
  await store.atomically(async () => {
    const current = await loadChargeSettings(store.db, orgId);
    const next = { ...current, ...change };
    await store.db
      .insert(chargeSettings)
      .values({ orgId, ...next, updatedAt: now })
      .onConflictDoUpdate({ target: chargeSettings.orgId, set: { ...next, updatedAt: now } });
    await audit(store.db, { orgId, actor, action: "settings.charges_changed", detail: { ...change } }, now);
  });
}

export interface ChargeableRow {
  invoiceId: string;
  contactId: string;
  externalId: string;
  contactExternalId: string;
  number: string;
  dueDate: IsoDate;
  currency: string;
  totalMinor: number;
  disputed: boolean;
  applied: { date: IsoDate; minor: number }[];
  levelReached: number;
  promisedBy: IsoDate | null;
  earlier: { kind: ChargeRow["kind"]; period: string; amountMinor: number; status: string }[];
}

const CHUNK = 90;
function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

/**
 * The organisation's open invoices past their due date on `asOf`, of customers that are chased (not deleted or
 * excluded), that are not themselves charge invoices, with everything a charge is worked out from.
 */
export async function loadChargeables(db: Db, orgId: string, asOf: IsoDate): Promise<ChargeableRow[]> {
  const base = await db
    .select({
      invoiceId: invoices.id,
      contactId: invoices.contactId,
      externalId: invoices.externalId,
      contactExternalId: contacts.externalId,
      number: invoices.number,
      dueDate: invoices.dueDate,
      currency: invoices.currency,
      totalMinor: invoices.totalMinor,
      disputedAt: invoices.disputedAt,
    })
    .from(invoices)
    .innerJoin(contacts, eq(contacts.id, invoices.contactId))
    .where(
      and(
        eq(invoices.orgId, orgId),
        sql`${invoices.status} in ('authorised', 'submitted') and ${invoices.amountDueMinor} > 0`,
        lt(invoices.dueDate, asOf),
        eq(contacts.deleted, false),
        eq(contacts.excluded, false),
        sql`not exists (select 1 from charges c where c.org_id = ${orgId} and c.ledger_id = ${invoices.externalId})`,
      ),
    )
    .orderBy(invoices.id);
  const rows = new Map<string, ChargeableRow>(
    base.map((b) => [
      b.invoiceId,
      {
        invoiceId: b.invoiceId,
        contactId: b.contactId,
        externalId: b.externalId,
        contactExternalId: b.contactExternalId,
        number: b.number,
        dueDate: b.dueDate,
        currency: b.currency,
        totalMinor: b.totalMinor,
        disputed: b.disputedAt !== null,
        applied: [],
        levelReached: 0,
        promisedBy: null,
        earlier: [],
      },
    ]),
  );
  for (const ids of chunks([...rows.keys()])) {
    const pays = await db
      .select({
        id: paymentAllocations.invoiceId,
        date: paymentAllocations.date,
        minor: paymentAllocations.amountMinor,
      })
      .from(paymentAllocations)
      .where(inArray(paymentAllocations.invoiceId, ids));
    const credits = await db
      .select({
        id: creditNoteAllocations.invoiceId,
        date: creditNoteAllocations.date,
        minor: creditNoteAllocations.amountMinor,
      })
      .from(creditNoteAllocations)
      .where(inArray(creditNoteAllocations.invoiceId, ids));
    for (const a of [...pays, ...credits]) rows.get(a.id)?.applied.push({ date: a.date, minor: a.minor });
    const levels = await db
      .select({ id: reminders.invoiceId, level: sql<number>`max(${reminders.level})` })
      .from(reminders)
      .where(and(inArray(reminders.invoiceId, ids), eq(reminders.status, "sent")))
      .groupBy(reminders.invoiceId);
    for (const l of levels) {
      const r = rows.get(l.id);
      if (r) r.levelReached = Number(l.level);
    }
    const promises = await db
      .select({ id: invoicePauses.invoiceId, until: sql<string>`max(${invoicePauses.until})` })
      .from(invoicePauses)
      .where(and(inArray(invoicePauses.invoiceId, ids), eq(invoicePauses.kind, "promise")))
      .groupBy(invoicePauses.invoiceId);
    for (const p of promises) {
      const r = rows.get(p.id);
      if (r) r.promisedBy = p.until;
    }
    const earlier = await db
      .select({
        id: charges.invoiceId,
        kind: charges.kind,
        period: charges.period,
        amountMinor: charges.amountMinor,
        status: charges.status,
      })
      .from(charges)
      .where(inArray(charges.invoiceId, ids));
    for (const e of earlier) rows.get(e.id)?.earlier.push(e);
  }
  return [...rows.values()];
}

export interface NewCharge {
  orgId: string;
  contactId: string;
  invoiceId: string;
  kind: ChargeRow["kind"];
  period: string;
  amountMinor: number;
  currency: string;
  asOf: IsoDate;
  detail: string;
}

/** The deterministic ledger reference of a charge: `CP-` and its id (21 characters at most). */
export const chargeReference = (id: string) => `CP-${id.slice(4)}`.slice(0, 21);

/** Records a proposal, unless one exists for (invoice, kind, period); returns it when it was new. */
export async function proposeCharge(store: Store, c: NewCharge, now: number): Promise<ChargeRow | undefined> {
  return store.atomically(async () => {
    const id = newId("chg");
    const [row] = await store.db
      .insert(charges)
      .values({ id, ...c, status: "proposed", proposedAt: now, reference: chargeReference(id) })
      .onConflictDoNothing()
      .returning();
    if (!row) return undefined;
    await audit(
      store.db,
      {
        orgId: c.orgId,
        contactId: c.contactId,
        invoiceId: c.invoiceId,
        actor: "reminders",
        action: "charge.proposed",
        detail: { chargeId: id, kind: c.kind, amount: c.amountMinor, currency: c.currency, detail: c.detail },
      },
      now,
    );
    return row;
  });
}

/** Approves or rejects a proposed charge, once (conditional on it still being proposed), with its audit entry. */
export async function decideCharge(
  store: Store,
  orgId: string,
  id: string,
  status: "approved" | "rejected",
  by: string,
  now: number,
): Promise<ChargeRow | undefined> {
  return store.atomically(async () => {
    const [row] = await store.db
      .update(charges)
      .set({ status, decidedAt: now, decidedBy: by })
      .where(and(eq(charges.id, id), eq(charges.orgId, orgId), eq(charges.status, "proposed")))
      .returning();
    if (!row) return undefined;
    await audit(
      store.db,
      {
        orgId,
        contactId: row.contactId,
        invoiceId: row.invoiceId,
        actor: by,
        action: `charge.${status}`,
        detail: { chargeId: id, amount: row.amountMinor, currency: row.currency },
      },
      now,
    );
    return row;
  });
}

export async function chargeById(db: Db, orgId: string, id: string): Promise<ChargeRow | undefined> {
  const [row] = await db
    .select()
    .from(charges)
    .where(and(eq(charges.id, id), eq(charges.orgId, orgId)))
    .limit(1);
  return row;
}

/** Approved charges not written yet (and failed writes, retried). */
export async function chargesToWrite(db: Db, orgId: string): Promise<ChargeRow[]> {
  return db
    .select()
    .from(charges)
    .where(and(eq(charges.orgId, orgId), inArray(charges.status, ["approved", "failed"])))
    .orderBy(charges.proposedAt);
}

/**
 * Takes a charge's ledger write (one taker wins): approved or failed, and not claimed by a writer that may still
 * be at work (a claim older than `staleBefore` is a crashed writer's, taken over; the connector then finds its
 * invoice by reference instead of creating another).
 */
export async function claimChargeWrite(
  db: Db,
  id: string,
  now: number,
  staleBefore: number,
): Promise<ChargeRow | undefined> {
  const [row] = await db
    .update(charges)
    .set({ writeClaimedAt: now, writeAttempts: sql`${charges.writeAttempts} + 1` })
    .where(
      and(
        eq(charges.id, id),
        inArray(charges.status, ["approved", "failed"]),
        or(isNull(charges.writeClaimedAt), lt(charges.writeClaimedAt, staleBefore)),
      ),
    )
    .returning();
  return row;
}

/** Records a write's outcome: written (with the ledger's id), recorded (CSV) or failed (retried; claim freed). */
export async function recordChargeWrite(
  store: Store,
  row: ChargeRow,
  outcome:
    | { status: "written"; ledgerId: string; ledgerNumber: string | null; found: boolean }
    | { status: "recorded" }
    | { status: "failed"; error: string },
  now: number,
): Promise<void> {
  await store.atomically(async () => {
    await store.db
      .update(charges)
      .set(
        outcome.status === "written"
          ? {
              status: "written",
              ledgerId: outcome.ledgerId,
              ledgerNumber: outcome.ledgerNumber,
              lastError: null,
            }
          : outcome.status === "recorded"
            ? { status: "recorded", lastError: null }
            : { status: "failed", lastError: outcome.error, writeClaimedAt: null },
      )
      .where(eq(charges.id, row.id));
    await audit(
      store.db,
      {
        orgId: row.orgId,
        contactId: row.contactId,
        invoiceId: row.invoiceId,
        actor: "reminders",
        action: `charge.${outcome.status === "failed" ? "write_failed" : outcome.status}`,
        detail: { chargeId: row.id, reference: row.reference, ...outcome },
      },
      now,
    );
  });
}

export interface ChargeListEntry extends ChargeRow {
  customerExternalId: string;
  customerName: string;
  invoiceNumber: string;
}

/** Charges of the organisation (newest first), optionally of some statuses. */
export async function listCharges(
  db: Db,
  orgId: string,
  statuses?: ChargeStatus[],
  limit = 200,
): Promise<ChargeListEntry[]> {
  const rows = await db
    .select({
      c: charges,
      customerExternalId: contacts.externalId,
      customerName: contacts.name,
      invoiceNumber: invoices.number,
    })
    .from(charges)
    .innerJoin(contacts, eq(contacts.id, charges.contactId))
    .innerJoin(invoices, eq(invoices.id, charges.invoiceId))
    .where(and(eq(charges.orgId, orgId), statuses ? inArray(charges.status, statuses) : undefined))
    .orderBy(sql`${charges.proposedAt} desc`, charges.id)
    .limit(limit);
  return rows.map((r) => ({
    ...r.c,
    customerExternalId: r.customerExternalId,
    customerName: r.customerName,
    invoiceNumber: r.invoiceNumber,
  }));
}

/** What has been charged on each of these invoices (approved, written or recorded), per invoice. */
export async function chargedOn(db: Db, invoiceIds: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const ids of chunks(invoiceIds)) {
    const rows = await db
      .select({ id: charges.invoiceId, minor: sql<number>`sum(${charges.amountMinor})` })
      .from(charges)
      .where(
        and(inArray(charges.invoiceId, ids), inArray(charges.status, ["approved", "written", "recorded"])),
      )
      .groupBy(charges.invoiceId);
    for (const r of rows) out.set(r.id, Number(r.minor));
  }
  return out;
}

/** What writing a charge to the ledger names: the original invoice's number and the customer's ledger id. */
export async function chargeWriteFacts(db: Db, row: ChargeRow) {
  const [facts] = await db
    .select({ invoiceNumber: invoices.number, contactExternalId: contacts.externalId })
    .from(invoices)
    .innerJoin(contacts, eq(contacts.id, invoices.contactId))
    .where(eq(invoices.id, row.invoiceId))
    .limit(1);
  return facts;
}
