/**
 * Writes canonical ledger records (from any connector, the CSV import or the demo generator) into the store:
 * invoices, payments, credit notes and their allocations, and a whole batch in dependency order (contacts come
 * from store/contacts.ts). Every write is an idempotent upsert keyed by (org, external id) (store/upsert.ts):
 * re-writing the same record changes nothing, and the counts say what was created, updated or left unchanged.
 */
import { getTableConfig } from "drizzle-orm/sqlite-core";
import type {
  CanonicalAllocation,
  CanonicalContact,
  CanonicalCreditNote,
  CanonicalInvoice,
  CanonicalPayment,
} from "../model";
import { contactIds, upsertContacts } from "./contacts";
import type { Store } from "./db";
import { newId } from "./ids";
import { creditNoteAllocations, creditNotes, invoices, paymentAllocations, payments } from "./schema";
import {
  chunksOf,
  countOutcomes,
  emptyCounts,
  idsByExternal,
  type Outcome,
  type UpsertCounts,
  upsertKeyedOutcomes,
} from "./upsert";

export function invoiceIds(store: Store, orgId: string, externalIds: string[]): Promise<Map<string, string>> {
  return idsByExternal(store.db, invoices, orgId, externalIds, store.maxParams);
}

/** Thrown when a record names a contact or invoice the store does not have. */
export class MissingReferenceError extends Error {
  constructor(
    readonly entity: string,
    readonly externalId: string,
    readonly missing: string,
  ) {
    super(`${entity} ${externalId} refers to unknown ${missing}`);
    this.name = "MissingReferenceError";
  }
}

/**
 * The store id of each row's customer, looked up once for the whole batch (or taken from `known`). A row whose
 * customer is not in the store is refused, naming both.
 */
async function contactResolver(
  store: Store,
  orgId: string,
  rows: readonly { externalId: string; contactExternalId: string }[],
  entity: string,
  known?: Map<string, string>,
): Promise<(r: { externalId: string; contactExternalId: string }) => string> {
  const map =
    known ??
    (await contactIds(
      store,
      orgId,
      rows.map((r) => r.contactExternalId),
    ));
  return (r) => {
    const id = map.get(r.contactExternalId);
    if (!id) throw new MissingReferenceError(entity, r.externalId, `contact ${r.contactExternalId}`);
    return id;
  };
}

export async function upsertInvoices(
  store: Store,
  orgId: string,
  rows: CanonicalInvoice[],
  now: number,
  knownContacts?: Map<string, string>,
): Promise<UpsertCounts> {
  return countOutcomes(await upsertInvoiceOutcomes(store, orgId, rows, now, knownContacts));
}

/** As upsertInvoices, with each row's outcome (in row order) instead of the counts. */
export async function upsertInvoiceOutcomes(
  store: Store,
  orgId: string,
  rows: CanonicalInvoice[],
  now: number,
  knownContacts?: Map<string, string>,
): Promise<{ outcome: Outcome; id: string | null }[]> {
  const contactOf = await contactResolver(store, orgId, rows, "invoice", knownContacts);
  const values = rows.map((r) => {
    const contactId = contactOf(r);
    return {
      id: newId("inv"),
      orgId,
      contactId,
      externalId: r.externalId,
      number: r.number,
      issueDate: r.issueDate,
      dueDate: r.dueDate,
      currency: r.currency,
      totalMinor: r.totalMinor,
      amountPaidMinor: r.amountPaidMinor,
      amountCreditedMinor: r.amountCreditedMinor,
      amountDueMinor: r.amountDueMinor,
      status: r.status,
      paidOn: r.paidOn ?? null,
      payUrl: r.payUrl ?? null,
      providerUpdatedAt: r.providerUpdatedAt ?? null,
      createdAt: now,
      updatedAt: now,
    };
  });
  const t = invoices;
  return upsertKeyedOutcomes(store, t, values, [
    "contactId",
    "number",
    "issueDate",
    "dueDate",
    "currency",
    "totalMinor",
    "amountPaidMinor",
    "amountCreditedMinor",
    "amountDueMinor",
    "status",
    "paidOn",
    "payUrl",
    "providerUpdatedAt",
  ]);
}

type AllocationTable = typeof paymentAllocations | typeof creditNoteAllocations;

interface Allocation {
  parentId: string;
  invoiceId: string;
  amountMinor: number;
  date: string;
}

/**
 * Makes the stored allocations of these parents (payments or credit notes) equal to their canonical
 * allocations, touching only rows that differ, and turns parent outcomes "unchanged" into "updated" where
 * allocations changed. Parents just created have none yet, so only the others are read.
 */
async function syncAllocations(
  store: Store,
  orgId: string,
  table: AllocationTable,
  parentColumn: "payment_id" | "credit_note_id",
  entity: string,
  rows: { externalId: string; allocations: CanonicalAllocation[] }[],
  outcomes: { outcome: Outcome; id: string | null }[],
  parentTable: typeof payments | typeof creditNotes,
): Promise<UpsertCounts> {
  const unchangedExt = rows.filter((_, i) => outcomes[i]!.outcome === "unchanged").map((r) => r.externalId);
  const known = await idsByExternal(store.db, parentTable, orgId, unchangedExt, store.maxParams);
  const parentIds = rows.map((r, i) => outcomes[i]!.id ?? known.get(r.externalId)!);
  const invoiceMap = await invoiceIds(
    store,
    orgId,
    rows.flatMap((r) => r.allocations.map((a) => a.invoiceExternalId)),
  );
  const wanted: Allocation[] = rows.flatMap((r, i) =>
    r.allocations.map((a) => {
      const invoiceId = invoiceMap.get(a.invoiceExternalId);
      if (!invoiceId) throw new MissingReferenceError(entity, r.externalId, `invoice ${a.invoiceExternalId}`);
      return { parentId: parentIds[i]!, invoiceId, amountMinor: a.amountMinor, date: a.date };
    }),
  );
  const toRead = parentIds.filter((_, i) => outcomes[i]!.outcome !== "created");
  const existing: Allocation[] = [];
  const name = `"${getTableConfig(table).name}"`;
  // Credit applied through a payment (via_payment_id) belongs to that payment, not to the credit note's own list.
  const own = table === creditNoteAllocations ? " AND via_payment_id IS NULL" : "";
  for (const chunk of chunksOf(toRead, store.maxParams - 1)) {
    const got = await store.runMany(
      `SELECT ${parentColumn}, invoice_id, amount_minor, date FROM ${name} WHERE ${parentColumn} IN (${chunk.map(() => "?").join(",")})${own}`,
      [chunk],
    );
    for (const [parentId, invoiceId, amountMinor, date] of got[0] ?? [])
      existing.push({
        parentId: parentId as string,
        invoiceId: invoiceId as string,
        amountMinor: amountMinor as number,
        date: date as string,
      });
  }
  const key = (r: Allocation) => `${r.parentId}\u0000${r.invoiceId}`;
  const same = (a: Allocation, b: Allocation | undefined) =>
    b !== undefined && a.amountMinor === b.amountMinor && a.date === b.date;
  const wantedByKey = new Map(wanted.map((w) => [key(w), w]));
  const existingByKey = new Map(existing.map((e) => [key(e), e]));
  const stale = existing.filter((e) => !same(e, wantedByKey.get(key(e))));
  const fresh = wanted.filter((w) => !same(w, existingByKey.get(key(w))));
  const changed = new Set([...stale, ...fresh].map((a) => a.parentId));
  if (stale.length)
    await store.runMany(
      `DELETE FROM ${name} WHERE ${parentColumn} = ? AND invoice_id = ?${own}`,
      stale.map((a) => [a.parentId, a.invoiceId]),
    );
  if (fresh.length)
    await store.runMany(
      `INSERT INTO ${name} (${parentColumn}, invoice_id, org_id, amount_minor, date) VALUES (?, ?, ?, ?, ?)`,
      fresh.map((a) => [a.parentId, a.invoiceId, orgId, a.amountMinor, a.date]),
    );
  return countOutcomes(
    outcomes.map((o, i) =>
      o.outcome === "unchanged" && changed.has(parentIds[i]!) ? { outcome: "updated" } : o,
    ),
  );
}

/** Upserts payments and replaces their allocations to invoices. */
export async function upsertPayments(
  store: Store,
  orgId: string,
  rows: CanonicalPayment[],
  now: number,
): Promise<UpsertCounts> {
  if (rows.length === 0) return emptyCounts();
  const contactMap = await contactIds(
    store,
    orgId,
    rows.flatMap((r) => (r.contactExternalId ? [r.contactExternalId] : [])),
  );
  const values = rows.map((r) => ({
    id: newId("pay"),
    orgId,
    contactId: r.contactExternalId ? (contactMap.get(r.contactExternalId) ?? null) : null,
    externalId: r.externalId,
    date: r.date,
    currency: r.currency,
    amountMinor: r.amountMinor,
    deleted: r.deleted ?? false,
    providerUpdatedAt: r.providerUpdatedAt ?? null,
    createdAt: now,
    updatedAt: now,
  }));
  const t = payments;
  const outcomes = await upsertKeyedOutcomes(store, t, values, [
    "contactId",
    "date",
    "currency",
    "amountMinor",
    "deleted",
    "providerUpdatedAt",
  ]);
  // A deleted payment no longer pays anything.
  const live = rows.map((r) => (r.deleted ? { ...r, allocations: [], creditApplications: [] } : r));
  const counts = await syncAllocations(
    store,
    orgId,
    paymentAllocations,
    "payment_id",
    "payment",
    live,
    outcomes,
    payments,
  );
  if (live.some((r) => r.creditApplications !== undefined))
    await syncCreditApplications(store, orgId, live, outcomes);
  return counts;
}

/**
 * Makes the credit-note allocations applied through these payments (`creditApplications`) equal to what the
 * payments say now: rows keyed by the payment (via_payment_id), so a credit note's own list never touches them.
 */
async function syncCreditApplications(
  store: Store,
  orgId: string,
  rows: CanonicalPayment[],
  outcomes: { outcome: Outcome; id: string | null }[],
): Promise<void> {
  const known = await idsByExternal(
    store.db,
    payments,
    orgId,
    rows.filter((_, i) => outcomes[i]!.id === null).map((r) => r.externalId),
    store.maxParams,
  );
  const paymentIds = rows.map((r, i) => outcomes[i]!.id ?? known.get(r.externalId)!);
  const apps = rows.flatMap((r) => r.creditApplications ?? []);
  const noteMap = await idsByExternal(
    store.db,
    creditNotes,
    orgId,
    apps.map((a) => a.creditNoteExternalId),
    store.maxParams,
  );
  const invoiceMap = await invoiceIds(
    store,
    orgId,
    apps.map((a) => a.invoiceExternalId),
  );
  const wanted = rows.flatMap((r, i) =>
    (r.creditApplications ?? []).map((a) => {
      const creditNoteId = noteMap.get(a.creditNoteExternalId);
      const invoiceId = invoiceMap.get(a.invoiceExternalId);
      if (!creditNoteId)
        throw new MissingReferenceError("payment", r.externalId, `credit note ${a.creditNoteExternalId}`);
      if (!invoiceId)
        throw new MissingReferenceError("payment", r.externalId, `invoice ${a.invoiceExternalId}`);
      return [creditNoteId, invoiceId, orgId, a.amountMinor, a.date, paymentIds[i]!];
    }),
  );
  for (const chunk of chunksOf(paymentIds, store.maxParams - 1))
    await store.runMany(
      `DELETE FROM "credit_note_allocations" WHERE via_payment_id IN (${chunk.map(() => "?").join(",")})`,
      [chunk],
    );
  if (wanted.length)
    await store.runMany(
      `INSERT INTO "credit_note_allocations" (credit_note_id, invoice_id, org_id, amount_minor, date, via_payment_id)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (credit_note_id, invoice_id) DO UPDATE SET amount_minor = excluded.amount_minor,
         date = excluded.date, via_payment_id = excluded.via_payment_id`,
      wanted,
    );
}

/**
 * The references a record names that the store does not hold, checked before anything is written, so a record
 * is written whole or not at all (quarantine never leaves half a record; on D1 too, with no transaction).
 * Returns the reason per external id of the records that cannot be written.
 */
export async function missingReferences(
  store: Store,
  orgId: string,
  entity: "invoices" | "payments" | "credit_notes",
  rows: (CanonicalInvoice | CanonicalPayment | CanonicalCreditNote)[],
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (rows.length === 0) return out;
  const contactRefs = rows.flatMap((r) =>
    "contactExternalId" in r && r.contactExternalId && entity !== "payments" ? [r.contactExternalId] : [],
  );
  const invoiceRefs = rows.flatMap((r) => [
    ...("allocations" in r ? r.allocations.map((a) => a.invoiceExternalId) : []),
    ...("creditApplications" in r ? (r.creditApplications ?? []).map((a) => a.invoiceExternalId) : []),
  ]);
  const noteRefs = rows.flatMap((r) =>
    "creditApplications" in r ? (r.creditApplications ?? []).map((a) => a.creditNoteExternalId) : [],
  );
  const haveContacts = await contactIds(store, orgId, contactRefs);
  const haveInvoices = await invoiceIds(store, orgId, invoiceRefs);
  const haveNotes = await idsByExternal(store.db, creditNotes, orgId, noteRefs, store.maxParams);
  const label = entity === "invoices" ? "invoice" : entity === "payments" ? "payment" : "credit note";
  for (const r of rows) {
    const miss = (what: string) =>
      out.set(r.externalId, `${label} ${r.externalId} refers to unknown ${what}`);
    if (entity !== "payments" && "contactExternalId" in r && r.contactExternalId) {
      if (!haveContacts.has(r.contactExternalId)) {
        miss(`contact ${r.contactExternalId}`);
        continue;
      }
    }
    const deleted =
      ("deleted" in r && r.deleted === true) ||
      ("status" in r && entity === "credit_notes" && (r.status === "void" || r.status === "deleted"));
    if (deleted) continue;
    const inv =
      "allocations" in r ? r.allocations.find((a) => !haveInvoices.has(a.invoiceExternalId)) : undefined;
    if (inv) {
      miss(`invoice ${inv.invoiceExternalId}`);
      continue;
    }
    if ("creditApplications" in r)
      for (const a of r.creditApplications ?? []) {
        if (!haveNotes.has(a.creditNoteExternalId)) {
          miss(`credit note ${a.creditNoteExternalId}`);
          break;
        }
        if (!haveInvoices.has(a.invoiceExternalId)) {
          miss(`invoice ${a.invoiceExternalId}`);
          break;
        }
      }
  }
  return out;
}

export async function upsertCreditNotes(
  store: Store,
  orgId: string,
  rows: CanonicalCreditNote[],
  now: number,
): Promise<UpsertCounts> {
  if (rows.length === 0) return emptyCounts();
  const contactOf = await contactResolver(store, orgId, rows, "credit note");
  const values = rows.map((r) => {
    const contactId = contactOf(r);
    return {
      id: newId("cn"),
      orgId,
      contactId,
      externalId: r.externalId,
      number: r.number ?? null,
      issueDate: r.issueDate,
      currency: r.currency,
      totalMinor: r.totalMinor,
      remainingMinor: r.remainingMinor,
      status: r.status,
      providerUpdatedAt: r.providerUpdatedAt ?? null,
      createdAt: now,
      updatedAt: now,
    };
  });
  const t = creditNotes;
  const outcomes = await upsertKeyedOutcomes(store, t, values, [
    "contactId",
    "number",
    "issueDate",
    "currency",
    "totalMinor",
    "remainingMinor",
    "status",
    "providerUpdatedAt",
  ]);
  const live = rows.map((r) =>
    r.status === "void" || r.status === "deleted" ? { ...r, allocations: [] } : r,
  );
  return syncAllocations(
    store,
    orgId,
    creditNoteAllocations,
    "credit_note_id",
    "credit note",
    live,
    outcomes,
    creditNotes,
  );
}

export interface LedgerBatch {
  contacts?: CanonicalContact[];
  invoices?: CanonicalInvoice[];
  payments?: CanonicalPayment[];
  creditNotes?: CanonicalCreditNote[];
}

export interface LedgerCounts {
  contacts: UpsertCounts;
  invoices: UpsertCounts;
  payments: UpsertCounts;
  creditNotes: UpsertCounts;
}

/** Writes a batch in dependency order (contacts, invoices, payments, credit notes), atomically. */
export async function writeLedgerBatch(
  store: Store,
  orgId: string,
  batch: LedgerBatch,
  now: number,
): Promise<LedgerCounts> {
  return store.atomically(async () => ({
    contacts: await upsertContacts(store, orgId, batch.contacts ?? [], now),
    invoices: await upsertInvoices(store, orgId, batch.invoices ?? [], now),
    payments: await upsertPayments(store, orgId, batch.payments ?? [], now),
    creditNotes: await upsertCreditNotes(store, orgId, batch.creditNotes ?? [], now),
  }));
}

/**
 * Settle dates the ledger does not send (QuickBooks keeps only an invoice's open Balance): a paid invoice with
 * no paid-on date was settled on the date of the last payment or credit allocated to it. Returns how many
 * invoices got a date.
 */
export async function settlePaidOnFromAllocations(store: Store, orgId: string, now: number): Promise<number> {
  const res = await store.runMany(
    `UPDATE invoices SET paid_on = (
       SELECT max(d) FROM (
         SELECT pa.date AS d FROM payment_allocations pa JOIN payments p ON p.id = pa.payment_id
           WHERE pa.invoice_id = invoices.id AND p.deleted = 0
         UNION ALL
         SELECT ca.date AS d FROM credit_note_allocations ca WHERE ca.invoice_id = invoices.id)),
       updated_at = ?
     WHERE org_id = ? AND status = 'paid' AND paid_on IS NULL
       AND (EXISTS (SELECT 1 FROM payment_allocations pa JOIN payments p ON p.id = pa.payment_id
                    WHERE pa.invoice_id = invoices.id AND p.deleted = 0)
            OR EXISTS (SELECT 1 FROM credit_note_allocations ca WHERE ca.invoice_id = invoices.id))
     RETURNING id`,
    [[now, orgId]],
  );
  return res[0]?.length ?? 0;
}
