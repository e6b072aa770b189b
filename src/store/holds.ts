/**
 * Credit-hold proposals (approve mode) and the holds view's reads: proposed, active and released holds with
 * their reasons and what each customer has overdue. Writes are single conditional statements (or run inside
 * `store.atomically`), so the same code holds on D1.
 */
import { and, desc, eq, inArray, sql } from "drizzle-orm";
import type { IsoDate } from "../model";
import { audit } from "./audit";
import type { Db, Store } from "./db";
import { newId } from "./ids";
import { contacts, creditHolds, holdProposals, invoices, memberships, users } from "./schema";

export type HoldProposalRow = typeof holdProposals.$inferSelect;

/** Records a proposal (one open proposal per customer); undefined when one is already open. */
export async function createProposal(
  store: Store,
  p: { orgId: string; contactId: string; reason: string; notice: boolean },
  now: number,
): Promise<HoldProposalRow | undefined> {
  return store.atomically(async () => {
    const rows = await store.db
      .insert(holdProposals)
      .values({
        id: newId("hpr"),
        orgId: p.orgId,
        contactId: p.contactId,
        status: "proposed",
        reason: p.reason,
        proposedAt: now,
        notice: p.notice ? "pending" : "none",
      })
      .onConflictDoNothing()
      .returning();
    const row = rows[0];
    if (!row) return undefined;
    await audit(
      store.db,
      {
        orgId: p.orgId,
        contactId: p.contactId,
        actor: "reminders",
        action: "credit_hold.proposed",
        detail: { reason: p.reason, proposalId: row.id },
      },
      now,
    );
    return row;
  });
}

/** The customer's open proposal, if any. */
export async function openProposal(db: Db, contactId: string): Promise<HoldProposalRow | undefined> {
  const rows = await db
    .select()
    .from(holdProposals)
    .where(and(eq(holdProposals.contactId, contactId), eq(holdProposals.status, "proposed")))
    .limit(1);
  return rows[0];
}

/**
 * Closes the customer's open proposal (exactly once: conditional on it still being open) and audits it.
 * Returns the closed row, or undefined when none was open.
 */
export async function closeProposal(
  store: Store,
  c: {
    orgId: string;
    contactId: string;
    status: "approved" | "dismissed" | "withdrawn";
    by: string;
    reason: string | null;
    holdEventId?: string | null;
  },
  now: number,
): Promise<HoldProposalRow | undefined> {
  return store.atomically(async () => {
    const rows = await store.db
      .update(holdProposals)
      .set({
        status: c.status,
        decidedAt: now,
        decidedBy: c.by,
        decisionReason: c.reason,
        holdEventId: c.holdEventId ?? null,
      })
      .where(and(eq(holdProposals.contactId, c.contactId), eq(holdProposals.status, "proposed")))
      .returning();
    const row = rows[0];
    if (!row) return undefined;
    await audit(
      store.db,
      {
        orgId: c.orgId,
        contactId: c.contactId,
        actor: c.by,
        action: `credit_hold.proposal_${c.status}`,
        detail: { proposalId: row.id, reason: c.reason, holdEventId: c.holdEventId ?? null },
      },
      now,
    );
    return row;
  });
}

/** How many hold proposals wait for a person to approve or dismiss them (the weekly digest's line). */
export async function countOpenProposals(db: Db, orgId: string): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)` })
    .from(holdProposals)
    .where(and(eq(holdProposals.orgId, orgId), eq(holdProposals.status, "proposed")));
  return row?.n ?? 0;
}

/** Proposals whose notice to the owner and bookkeepers is still to send. */
export async function unfinishedProposalNotices(db: Db, orgId: string): Promise<HoldProposalRow[]> {
  return db
    .select()
    .from(holdProposals)
    .where(
      and(
        eq(holdProposals.orgId, orgId),
        eq(holdProposals.status, "proposed"),
        inArray(holdProposals.notice, ["pending", "failed"]),
      ),
    );
}

/** Takes a proposal's notice for sending (one taker wins). */
export async function claimProposalNotice(db: Db, id: string): Promise<boolean> {
  const rows = await db
    .update(holdProposals)
    .set({ notice: "sending" })
    .where(and(eq(holdProposals.id, id), inArray(holdProposals.notice, ["pending", "failed"])))
    .returning({ id: holdProposals.id });
  return rows.length > 0;
}

export async function recordProposalNotice(db: Db, id: string, status: "sent" | "failed" | "none") {
  await db.update(holdProposals).set({ notice: status }).where(eq(holdProposals.id, id));
}

/** The addresses of the organisation's owners and bookkeepers (who may approve holds). */
export async function approverEmails(db: Db, orgId: string): Promise<string[]> {
  const rows = await db
    .select({ email: users.email })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(eq(memberships.orgId, orgId), inArray(memberships.role, ["owner", "bookkeeper"])));
  return rows.map((r) => r.email);
}

export interface OverdueAmount {
  currency: string;
  minor: number;
}

export interface HoldListEntry {
  contactId: string;
  externalId: string;
  name: string;
  reason: string;
  /** When it was proposed, placed or released (epoch ms). */
  at: number;
  /** Who decided: "reminders" for a run, else the person (or "cli"). */
  by: string;
  /** Ledger write-back of the placement/release ("written", "failed", ...); null for proposals. */
  writeback: string | null;
  writebackDetail: string | null;
  overdue: OverdueAmount[];
}

export interface HoldLists {
  proposed: HoldListEntry[];
  active: HoldListEntry[];
  released: HoldListEntry[];
}

/** Overdue amounts (open, undisputed, due before `today`) per customer and currency. */
async function overdueOf(db: Db, orgId: string, contactIds: string[], today: IsoDate) {
  const out = new Map<string, OverdueAmount[]>();
  for (let i = 0; i < contactIds.length; i += 90) {
    const chunk = contactIds.slice(i, i + 90);
    const rows = await db
      .select({
        contactId: invoices.contactId,
        currency: invoices.currency,
        minor: sql<number>`sum(${invoices.amountDueMinor})`,
      })
      .from(invoices)
      .where(
        and(
          eq(invoices.orgId, orgId),
          inArray(invoices.contactId, chunk),
          sql`${invoices.status} in ('authorised', 'submitted') and ${invoices.amountDueMinor} > 0`,
          sql`${invoices.disputedAt} is null and ${invoices.dueDate} < ${today}`,
        ),
      )
      .groupBy(invoices.contactId, invoices.currency)
      .orderBy(invoices.currency);
    for (const { contactId, currency, minor } of rows) {
      const list = out.get(contactId) ?? [];
      list.push({ currency, minor });
      out.set(contactId, list);
    }
  }
  return out;
}

/** The holds view: open proposals, customers on hold (with the placement's reason) and recent releases. */
export async function listHolds(
  db: Db,
  orgId: string,
  today: IsoDate,
  releasedLimit = 50,
): Promise<HoldLists> {
  const proposedRows = await db
    .select({ p: holdProposals, externalId: contacts.externalId, name: contacts.name })
    .from(holdProposals)
    .innerJoin(contacts, eq(contacts.id, holdProposals.contactId))
    .where(and(eq(holdProposals.orgId, orgId), eq(holdProposals.status, "proposed")))
    .orderBy(holdProposals.proposedAt);
  const activeRows = await db
    .select({
      id: contacts.id,
      externalId: contacts.externalId,
      name: contacts.name,
      at: contacts.holdChangedAt,
    })
    .from(contacts)
    .where(and(eq(contacts.orgId, orgId), eq(contacts.holdState, "on_hold")))
    .orderBy(contacts.name);
  const placements = new Map<string, typeof creditHolds.$inferSelect>();
  for (let i = 0; i < activeRows.length; i += 90) {
    const ids = activeRows.slice(i, i + 90).map((r) => r.id);
    const evs = await db
      .select()
      .from(creditHolds)
      .where(and(inArray(creditHolds.contactId, ids), eq(creditHolds.action, "place")))
      .orderBy(creditHolds.at);
    for (const e of evs) placements.set(e.contactId, e);
  }
  const releasedRows = await db
    .select({ h: creditHolds, externalId: contacts.externalId, name: contacts.name })
    .from(creditHolds)
    .innerJoin(contacts, eq(contacts.id, creditHolds.contactId))
    .where(and(eq(creditHolds.orgId, orgId), eq(creditHolds.action, "release")))
    .orderBy(desc(creditHolds.at))
    .limit(releasedLimit);
  const ids = [
    ...new Set([
      ...proposedRows.map((r) => r.p.contactId),
      ...activeRows.map((r) => r.id),
      ...releasedRows.map((r) => r.h.contactId),
    ]),
  ];
  const overdue = await overdueOf(db, orgId, ids, today);
  return {
    proposed: proposedRows.map((r) => ({
      contactId: r.p.contactId,
      externalId: r.externalId,
      name: r.name,
      reason: r.p.reason,
      at: r.p.proposedAt,
      by: "reminders",
      writeback: null,
      writebackDetail: null,
      overdue: overdue.get(r.p.contactId) ?? [],
    })),
    active: activeRows.map((r) => {
      const ev = placements.get(r.id);
      return {
        contactId: r.id,
        externalId: r.externalId,
        name: r.name,
        reason: ev?.reason ?? "on hold in the ledger",
        at: ev?.at ?? r.at ?? 0,
        by: ev?.actor ?? "reminders",
        writeback: ev?.writebackStatus ?? null,
        writebackDetail: ev?.writebackDetail ?? null,
        overdue: overdue.get(r.id) ?? [],
      };
    }),
    released: releasedRows.map((r) => ({
      contactId: r.h.contactId,
      externalId: r.externalId,
      name: r.name,
      reason: r.h.reason,
      at: r.h.at,
      by: r.h.actor ?? "reminders",
      writeback: r.h.writebackStatus,
      writebackDetail: r.h.writebackDetail,
      overdue: overdue.get(r.h.contactId) ?? [],
    })),
  };
}

/** The customer a hold action names (by its ledger id), with what the action needs. */
export async function contactForHold(db: Db, orgId: string, externalId: string) {
  const rows = await db
    .select({
      id: contacts.id,
      externalId: contacts.externalId,
      name: contacts.name,
      holdState: contacts.holdState,
    })
    .from(contacts)
    .where(and(eq(contacts.orgId, orgId), eq(contacts.externalId, externalId), eq(contacts.deleted, false)))
    .limit(1);
  return rows[0];
}
