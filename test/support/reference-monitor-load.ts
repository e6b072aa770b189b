/**
 * The straightforward loadMonitorInput (as it was before the end-to-end speed work on issue 3): five drizzle
 * object queries, allocations built field by field. Kept as the reference the lean loader in
 * src/store/monitor-input.ts is checked against (test/store/monitor-load.test.ts, bench/score-speed.ts).
 */
import { and, eq, isNull } from "drizzle-orm";
import type { MonitorAllocation, OrgInput } from "../../src/monitor/index";
import type { Db } from "../../src/store/db";
import type { Organisation } from "../../src/store/orgs";
import {
  contacts,
  creditNoteAllocations,
  creditNotes,
  invoices,
  paymentAllocations,
  payments,
} from "../../src/store/schema";

export async function referenceLoadMonitorInput(
  db: Db,
  org: Pick<Organisation, "id" | "baseCurrency">,
): Promise<OrgInput> {
  const [cs, invs, pays, cns, cnAllocs] = await Promise.all([
    db
      .select({
        id: contacts.id,
        externalId: contacts.externalId,
        name: contacts.name,
        creditLimitMinor: contacts.creditLimitMinor,
        deleted: contacts.deleted,
        isCustomer: contacts.isCustomer,
        isSupplier: contacts.isSupplier,
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
        remainingMinor: creditNotes.remainingMinor,
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
  // Supplier-only contacts with no sales invoice are not customers.
  const invoiced = new Set(
    (await db.select({ contactId: invoices.contactId }).from(invoices).where(eq(invoices.orgId, org.id))).map(
      (r) => r.contactId,
    ),
  );
  const customers = cs
    .filter((c) => !(c.isSupplier === true && c.isCustomer !== true && !invoiced.has(c.id)))
    .map(({ isCustomer: _c, isSupplier: _s, ...c }) => c);
  return {
    baseCurrency: org.baseCurrency,
    contacts: customers,
    invoices: invs,
    allocations,
    creditNotes: cns,
  };
}
