/**
 * Invoice disputes: a customer disputes an invoice on the customers' page (it is neither chased nor counted
 * from then on), the open disputes a bookkeeper sees, and their resolution. Each write lands with its audit
 * entry inside `store.atomically`.
 */
import { and, desc, eq, isNull, sql } from "drizzle-orm";
import { audit, CUSTOMER_ACTIONS } from "./audit";
import type { Db, Store } from "./db";
import { newId } from "./ids";
import { invoiceDisputes, invoices } from "./schema";

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
