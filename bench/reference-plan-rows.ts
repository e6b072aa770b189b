/**
 * The straightforward read the reminder planner's fast loader (`loadPlanRows` in src/store/reminders.ts) must
 * plan exactly like: every live customer and every open invoice of the organisation, read through drizzle's
 * query builder, nothing restricted or summed in SQL. Used by bench/remind.ts and test/reminders/plan-rows.test.ts.
 */
import { and, eq, inArray, ne, sql } from "drizzle-orm";
import type { PlanInvoice } from "../src/reminders/plan";
import type { Store } from "../src/store/db";
import type { Organisation } from "../src/store/orgs";
import { contacts, invoices, reminders } from "../src/store/schema";

export async function referencePlanRows(store: Store, org: Organisation) {
  const cs = await store.db
    .select()
    .from(contacts)
    .where(and(eq(contacts.orgId, org.id), eq(contacts.deleted, false)));
  const is = (await store.db
    .select()
    .from(invoices)
    .where(
      and(
        eq(invoices.orgId, org.id),
        inArray(invoices.status, ["authorised", "submitted"]),
        sql`${invoices.amountDueMinor} > 0`,
      ),
    )) as PlanInvoice[];
  const claims = await store.db
    .select({ invoiceId: reminders.invoiceId, offsetDays: sql<number>`max(${reminders.offsetDays})` })
    .from(reminders)
    .where(and(eq(reminders.orgId, org.id), ne(reminders.status, "failed")))
    .groupBy(reminders.invoiceId);
  return {
    contacts: cs.map((c) => ({ ...c, grade: null })),
    invoices: is,
    claimedOffset: new Map(claims.map((c) => [c.invoiceId, c.offsetDays])),
  };
}
