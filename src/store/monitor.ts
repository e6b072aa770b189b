/**
 * The monitor's side of the store: load an organisation's ledger as the pure monitor's input, and keep the
 * score history and the one-alert-per-episode record of deteriorating customers.
 */
import { and, desc, eq, inArray, isNull, lte } from "drizzle-orm";
import type { CustomerScore, Episode, MonitorAllocation, OrgInput } from "../monitor/index";
import { audit } from "./audit";
import type { Db } from "./db";
import type { Organisation } from "./orgs";
import {
  auditLog,
  contacts,
  creditNoteAllocations,
  creditNotes,
  invoices,
  paymentAllocations,
  payments,
  scores,
} from "./schema";

/**
 * Everything the monitor reads for one organisation. The monitor itself applies `asOf`. Invoices a customer
 * disputed on the customers' page are left out (not in the exposure, not held against the customer) until a
 * bookkeeper resolves the dispute (`resolveDispute` in store/portal.ts).
 */
export async function loadMonitorInput(db: Db, org: Organisation): Promise<OrgInput> {
  const [cs, invs, pays, cns, cnAllocs] = await Promise.all([
    db
      .select({
        id: contacts.id,
        externalId: contacts.externalId,
        name: contacts.name,
        creditLimitMinor: contacts.creditLimitMinor,
        deleted: contacts.deleted,
      })
      .from(contacts)
      .where(eq(contacts.orgId, org.id)),
    db
      .select({
        id: invoices.id,
        contactId: invoices.contactId,
        number: invoices.number,
        issueDate: invoices.issueDate,
        dueDate: invoices.dueDate,
        currency: invoices.currency,
        totalMinor: invoices.totalMinor,
        amountPaidMinor: invoices.amountPaidMinor,
        amountCreditedMinor: invoices.amountCreditedMinor,
        amountDueMinor: invoices.amountDueMinor,
        status: invoices.status,
        paidOn: invoices.paidOn,
      })
      .from(invoices)
      .where(and(eq(invoices.orgId, org.id), isNull(invoices.disputedAt))),
    db
      .select({
        invoiceId: paymentAllocations.invoiceId,
        amountMinor: paymentAllocations.amountMinor,
        date: paymentAllocations.date,
      })
      .from(paymentAllocations)
      .innerJoin(payments, eq(payments.id, paymentAllocations.paymentId))
      .where(and(eq(paymentAllocations.orgId, org.id), eq(payments.deleted, false))),
    db
      .select({
        id: creditNotes.id,
        contactId: creditNotes.contactId,
        issueDate: creditNotes.issueDate,
        currency: creditNotes.currency,
        totalMinor: creditNotes.totalMinor,
        status: creditNotes.status,
      })
      .from(creditNotes)
      .where(eq(creditNotes.orgId, org.id)),
    db
      .select({
        invoiceId: creditNoteAllocations.invoiceId,
        amountMinor: creditNoteAllocations.amountMinor,
        date: creditNoteAllocations.date,
        creditNoteId: creditNoteAllocations.creditNoteId,
      })
      .from(creditNoteAllocations)
      .where(eq(creditNoteAllocations.orgId, org.id)),
  ]);
  // One object shape for both kinds, built field by field (spreading a million rows was slow).
  const allocations: MonitorAllocation[] = [];
  for (const a of pays) {
    allocations.push({
      invoiceId: a.invoiceId,
      amountMinor: a.amountMinor,
      date: a.date,
      kind: "payment",
      creditNoteId: null,
    });
  }
  for (const a of cnAllocs) {
    allocations.push({
      invoiceId: a.invoiceId,
      amountMinor: a.amountMinor,
      date: a.date,
      kind: "credit_note",
      creditNoteId: a.creditNoteId,
    });
  }
  return { baseCurrency: org.baseCurrency, contacts: cs, invoices: invs, allocations, creditNotes: cns };
}

/** Stores one result per customer for `asOf` (a re-run of the same day replaces that day's rows). */
export async function saveScores(db: Db, orgId: string, asOf: string, results: CustomerScore[], now: number) {
  for (const r of results) {
    const row = {
      orgId,
      contactId: r.contact_id,
      asOf,
      score: r.score,
      grade: r.grade,
      lateProbability: r.late_probability,
      trend: r.trend,
      trendChangeDays: r.trend_change_days,
      trendStartedOn: r.trend_started_on,
      reasons: r.reasons,
      computedAt: now,
    };
    await db
      .insert(scores)
      .values(row)
      .onConflictDoUpdate({ target: [scores.contactId, scores.asOf], set: row });
  }
}

/** The latest stored score of each customer on or before `asOf` (for movement and for the reminder policy). */
export async function latestScores(db: Db, orgId: string, asOf: string) {
  const rows = await db
    .select()
    .from(scores)
    .where(and(eq(scores.orgId, orgId), lte(scores.asOf, asOf)))
    .orderBy(desc(scores.asOf));
  const byContact = new Map<string, typeof scores.$inferSelect>();
  for (const r of rows) if (!byContact.has(r.contactId)) byContact.set(r.contactId, r);
  return byContact;
}

export const DETERIORATION_ALERT = "monitor.deteriorating";

/** The last deterioration alert raised for each of these customers, from the audit log. */
export async function lastAlerts(db: Db, orgId: string, contactIds: string[]): Promise<Map<string, Episode>> {
  const out = new Map<string, Episode>();
  if (contactIds.length === 0) return out;
  const rows = await db
    .select({ contactId: auditLog.contactId, detail: auditLog.detail, at: auditLog.at })
    .from(auditLog)
    .where(
      and(
        eq(auditLog.orgId, orgId),
        eq(auditLog.action, DETERIORATION_ALERT),
        inArray(auditLog.contactId, contactIds),
      ),
    )
    .orderBy(desc(auditLog.at));
  for (const r of rows) {
    if (!r.contactId || out.has(r.contactId)) continue;
    const d = (r.detail ?? {}) as { startedOn?: string | null; asOf?: string };
    out.set(r.contactId, { startedOn: d.startedOn ?? null, alertedOn: d.asOf ?? "" });
  }
  return out;
}

export async function recordAlert(db: Db, orgId: string, r: CustomerScore, asOf: string, now: number) {
  await audit(
    db,
    {
      orgId,
      contactId: r.contact_id,
      actor: "monitor",
      action: DETERIORATION_ALERT,
      detail: { asOf, startedOn: r.trend_started_on, changeDays: r.trend_change_days, reasons: r.reasons },
    },
    now,
  );
}
