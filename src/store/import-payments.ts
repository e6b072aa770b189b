/**
 * Payments a CSV re-import no longer lists: an earlier import wrote them for these invoices, but the files now
 * leave them out (a payment row removed, or payments.csv given instead of paid_date).
 */
import { and, eq, inArray } from "drizzle-orm";
import type { Store } from "./db";
import { invoiceIds } from "./ledger";
import { paymentAllocations, payments } from "./schema";

/**
 * Marks deleted (and unallocates) every live payment of these invoices (by external id) whose external id is
 * not in `listed`, so it stops paying the invoice. Returns how many were retired.
 */
export async function retireStalePayments(
  store: Store,
  orgId: string,
  invoiceExternalIds: string[],
  listed: Set<string>,
  now: number,
): Promise<number> {
  const ids = await invoiceIds(store, orgId, invoiceExternalIds);
  if (ids.size === 0) return 0;
  // In chunks of the driver's bound-parameter limit (D1: 100), one parameter kept for `deleted`.
  const all = [...ids.values()];
  const size = Math.max(1, store.maxParams - 1);
  const existing: { paymentId: string; externalId: string }[] = [];
  for (let i = 0; i < all.length; i += size)
    existing.push(
      ...(await store.db
        .select({ paymentId: payments.id, externalId: payments.externalId })
        .from(paymentAllocations)
        .innerJoin(payments, eq(payments.id, paymentAllocations.paymentId))
        .where(
          and(inArray(paymentAllocations.invoiceId, all.slice(i, i + size)), eq(payments.deleted, false)),
        )),
    );
  const stale = [...new Set(existing.filter((e) => !listed.has(e.externalId)).map((e) => e.paymentId))];
  for (const paymentId of stale) {
    await store.db.delete(paymentAllocations).where(eq(paymentAllocations.paymentId, paymentId));
    await store.db.update(payments).set({ deleted: true, updatedAt: now }).where(eq(payments.id, paymentId));
  }
  return stale.length;
}
