/**
 * The straightforward read the reminder planner's fast loader (`loadPlanRows` in src/store/plan-rows.ts) must
 * plan exactly like: every live customer and every open invoice of the organisation, read through drizzle's
 * query builder, nothing restricted or summed in SQL. Used by bench/remind.ts and test/reminders/plan-rows.test.ts.
 */

import { and, eq, inArray, ne, sql } from "drizzle-orm";
import type { PlanInvoice } from "../../src/model/reminders";
import type { Store } from "../../src/store/db";
import type { Organisation } from "../../src/store/orgs";
import { contacts, creditHolds, holdProposals, invoices, reminders } from "../../src/store/schema";

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
  const proposals = await store.db.select().from(holdProposals).where(eq(holdProposals.orgId, org.id));
  const events = await store.db.select().from(creditHolds).where(eq(creditHolds.orgId, org.id));
  const manual = events.filter((h) => h.action === "release");
  const lastPlace = new Map<string, (typeof events)[number]>();
  for (const h of events)
    if (h.action === "place" && (lastPlace.get(h.contactId)?.at ?? -1) <= h.at) lastPlace.set(h.contactId, h);
  const declined = new Map<string, number>();
  const later = (id: string, at: number | null) => {
    if (at !== null && at > (declined.get(id) ?? 0)) declined.set(id, at);
  };
  for (const p of proposals) if (p.status === "dismissed") later(p.contactId, p.decidedAt);
  for (const h of manual) if (h.actor !== null) later(h.contactId, h.at);
  const sent = await store.db
    .select()
    .from(reminders)
    .where(and(eq(reminders.orgId, org.id), eq(reminders.status, "sent")));
  const sentOffsets = new Map<string, [number, number][]>();
  for (const r of sent)
    if (r.sentAt !== null)
      sentOffsets.set(r.invoiceId, [...(sentOffsets.get(r.invoiceId) ?? []), [r.offsetDays, r.sentAt]]);
  return {
    contacts: cs.map((c) => ({
      ...c,
      grade: null,
      holdProposed: proposals.some((p) => p.contactId === c.id && p.status === "proposed"),
      holdDeclinedAt: declined.get(c.id) ?? null,
      holdByHand: c.holdState === "on_hold" && lastPlace.get(c.id)?.byHand === true,
    })),
    invoices: is,
    claimedOffset: new Map(claims.map((c) => [c.invoiceId, c.offsetDays])),
    sentOffsets,
  };
}
