/**
 * Invoice disputes: a customer disputes an invoice on the customers' page (it is neither chased nor counted
 * from then on), the open disputes a bookkeeper sees, and their resolution (with its audit entry, in one batch).
 */
import { and, desc, eq, isNull, sql } from "drizzle-orm";
import { CUSTOMER_ACTIONS } from "./audit";
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
 *
 * One all-or-nothing batch (a D1 batch on Workers, a transaction on SQLite): the audit entry is written first,
 * only while the invoice is marked disputed or has an open dispute row (it reads both as they were), then the
 * mark is cleared and the open rows closed. A retry after a failure finds either nothing done or all of it.
 */
export async function resolveDispute(
  store: Store,
  r: { orgId: string; invoiceId: string; by: string; resolution?: string | null },
  now: number,
): Promise<boolean> {
  const marked = sql`select 1 from invoices
      where id = ${r.invoiceId} and org_id = ${r.orgId} and disputed_at is not null`;
  const open = sql`from invoice_disputes
      where invoice_id = ${r.invoiceId} and org_id = ${r.orgId} and resolved_at is null`;
  const [audited] = await store.batch([
    sql`insert into audit_log (id, org_id, contact_id, invoice_id, actor, action, detail, at)
        select ${newId("aud")}, ${r.orgId},
          coalesce((select contact_id from invoices where id = ${r.invoiceId} and org_id = ${r.orgId}),
                   (select contact_id ${open} limit 1)),
          ${r.invoiceId}, ${r.by}, ${CUSTOMER_ACTIONS.disputeResolved},
          json_object(
            'invoiceNumber', (select number from invoices
              where id = ${r.invoiceId} and org_id = ${r.orgId} and disputed_at is not null),
            'disputeIds', json((select json_group_array(id) ${open})),
            'resolution', ${r.resolution ?? null}),
          ${now}
        where exists (${marked}) or exists (select 1 ${open})
        returning id`,
    sql`update invoices set disputed_at = null
        where id = ${r.invoiceId} and org_id = ${r.orgId} and disputed_at is not null`,
    sql`update invoice_disputes set resolved_at = ${now}, resolved_by = ${r.by},
          resolution = ${r.resolution ?? null}
        where invoice_id = ${r.invoiceId} and org_id = ${r.orgId} and resolved_at is null`,
  ]);
  return Boolean(audited?.length);
}
