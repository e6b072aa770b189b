/**
 * Stored ledger records read back by their provider ids: as canonical records (what a connector would have
 * returned; QuickBooks reports deletions by id only, so its connector reads the deleted record's last known
 * state here), and the open invoices the periodic sweep re-reads.
 */
import { and, eq, inArray, ne } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import type { CanonicalContact, CanonicalCreditNote, CanonicalInvoice, CanonicalPayment } from "../model";
import type { Db } from "./db";
import { contacts, creditNotes, invoices, payments } from "./schema";

type KnownEntity = "contacts" | "invoices" | "payments" | "credit_notes";

/**
 * The stored versions of an organisation's records of one entity, by provider id, as canonical records
 * (allocations are not kept per record: they come back empty).
 */
export async function storedCanonicalRecords(
  db: Db,
  orgId: string,
  entity: KnownEntity,
  ids: string[],
): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  if (ids.length === 0) return out;
  const ofOrg = (t: { orgId: SQLiteColumn; externalId: SQLiteColumn }) =>
    and(eq(t.orgId, orgId), inArray(t.externalId, ids));
  const contactExt = async (idsIn: (string | null)[]) => {
    const wanted = [...new Set(idsIn.filter((x): x is string => Boolean(x)))];
    const rows = wanted.length
      ? await db
          .select({ id: contacts.id, externalId: contacts.externalId })
          .from(contacts)
          .where(inArray(contacts.id, wanted))
      : [];
    return new Map(rows.map((r) => [r.id, r.externalId]));
  };
  if (entity === "contacts") {
    const rows = await db.select().from(contacts).where(ofOrg(contacts));
    for (const r of rows)
      out.set(r.externalId, {
        externalId: r.externalId,
        name: r.name,
        emails: r.emails,
        phone: r.phone,
        providerUpdatedAt: r.providerUpdatedAt,
      } satisfies CanonicalContact);
  } else if (entity === "invoices") {
    const rows = await db.select().from(invoices).where(ofOrg(invoices));
    const ext = await contactExt(rows.map((r) => r.contactId));
    for (const r of rows)
      out.set(r.externalId, {
        externalId: r.externalId,
        contactExternalId: ext.get(r.contactId) ?? "",
        number: r.number,
        issueDate: r.issueDate,
        dueDate: r.dueDate,
        currency: r.currency,
        totalMinor: r.totalMinor,
        amountPaidMinor: r.amountPaidMinor,
        amountCreditedMinor: r.amountCreditedMinor,
        amountDueMinor: r.amountDueMinor,
        status: r.status,
        paidOn: r.paidOn,
        payUrl: r.payUrl,
        providerUpdatedAt: r.providerUpdatedAt,
      } satisfies CanonicalInvoice);
  } else if (entity === "payments") {
    const rows = await db.select().from(payments).where(ofOrg(payments));
    const ext = await contactExt(rows.map((r) => r.contactId));
    for (const r of rows)
      out.set(r.externalId, {
        externalId: r.externalId,
        contactExternalId: r.contactId ? (ext.get(r.contactId) ?? null) : null,
        date: r.date,
        currency: r.currency,
        amountMinor: r.amountMinor,
        allocations: [],
        providerUpdatedAt: r.providerUpdatedAt,
      } satisfies CanonicalPayment);
  } else {
    const rows = await db.select().from(creditNotes).where(ofOrg(creditNotes));
    const ext = await contactExt(rows.map((r) => r.contactId));
    for (const r of rows)
      out.set(r.externalId, {
        externalId: r.externalId,
        contactExternalId: ext.get(r.contactId) ?? "",
        number: r.number,
        issueDate: r.issueDate,
        currency: r.currency,
        totalMinor: r.totalMinor,
        remainingMinor: r.remainingMinor,
        status: r.status,
        allocations: [],
        providerUpdatedAt: r.providerUpdatedAt,
      } satisfies CanonicalCreditNote);
  }
  return out;
}

/** External ids of the invoices the store holds as open (authorised or submitted, something still due). */
export async function openInvoiceExternalIds(db: Db, orgId: string): Promise<string[]> {
  const rows = await db
    .select({ externalId: invoices.externalId })
    .from(invoices)
    .where(
      and(
        eq(invoices.orgId, orgId),
        inArray(invoices.status, ["authorised", "submitted"]),
        ne(invoices.amountDueMinor, 0),
      ),
    );
  return rows.map((r) => r.externalId);
}
