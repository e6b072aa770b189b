/**
 * Per-invoice pauses a customer asked for on the customers' page ("I've already paid", "I'll pay by"), the ones
 * still running (what planning and the re-read before sending honour), and promises to pay that were broken.
 */
import { and, desc, eq, gte, inArray, isNull, lt, sql } from "drizzle-orm";
import type { IsoDate } from "../model";
import type { InvoicePause, PauseKind } from "../model/reminders";
import { audit, CUSTOMER_ACTIONS } from "./audit";
import type { Db, Store } from "./db";
import { newId } from "./ids";
import type { Organisation } from "./orgs";
import { auditLog, invoicePauses, invoices } from "./schema";

const OPEN = ["authorised", "submitted"] as const;

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
  /** At most this many (in pause id order); the rest are flagged by the next call. */
  limit?: number,
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
  const sorted =
    limit === undefined ? candidates : candidates.sort((a, b) => (a.pauseId < b.pauseId ? -1 : 1));
  for (const c of sorted.slice(0, limit ?? sorted.length)) {
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
