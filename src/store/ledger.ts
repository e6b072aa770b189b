/**
 * Writes canonical ledger records (from any connector, the CSV import or the demo generator) into the store.
 * Every write is an idempotent upsert keyed by (org, external id): re-writing the same record changes nothing,
 * and the counts say what was created, updated or left unchanged.
 */
import { and, eq, inArray } from "drizzle-orm";
import { type AnySQLiteColumn, getTableConfig, type SQLiteTable } from "drizzle-orm/sqlite-core";
import type {
  CanonicalAllocation,
  CanonicalContact,
  CanonicalCreditNote,
  CanonicalInvoice,
  CanonicalPayment,
} from "../model";
import type { Db, Store } from "./db";
import { newId } from "./ids";
import {
  contacts,
  creditNoteAllocations,
  creditNotes,
  invoices,
  paymentAllocations,
  payments,
} from "./schema";

export interface UpsertCounts {
  created: number;
  updated: number;
  unchanged: number;
}

export const emptyCounts = (): UpsertCounts => ({ created: 0, updated: 0, unchanged: 0 });

export function addCounts(into: UpsertCounts, more: UpsertCounts): UpsertCounts {
  into.created += more.created;
  into.updated += more.updated;
  into.unchanged += more.unchanged;
  return into;
}

function chunksOf<T>(rows: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

const q = (name: string) => `"${name.replaceAll('"', '""')}"`;
const upsertSqlCache = new WeakMap<SQLiteTable, Map<string, { text: string; cols: AnySQLiteColumn[] }>>();

/**
 * The single-row upsert statement for `table` with these property keys: insert, or on (org, external id)
 * conflict update the tracked columns only when one differs, returning the row's id when written.
 */
function upsertStatement(table: SQLiteTable, keys: string[], tracked: string[]) {
  let byShape = upsertSqlCache.get(table);
  if (!byShape) {
    byShape = new Map();
    upsertSqlCache.set(table, byShape);
  }
  const shape = `${keys.join(",")}|${tracked.join(",")}`;
  let st = byShape.get(shape);
  if (!st) {
    const columns = table as unknown as Record<string, AnySQLiteColumn>;
    const name = q(getTableConfig(table).name);
    const cols = keys.map((k) => columns[k]!);
    const trackedCols = tracked.map((k) => columns[k]!);
    const set = [...trackedCols, columns.updatedAt!]
      .map((c) => `${q(c.name)} = excluded.${q(c.name)}`)
      .join(", ");
    const changed = trackedCols.map((c) => `${name}.${q(c.name)} IS NOT excluded.${q(c.name)}`).join(" OR ");
    const text =
      `INSERT INTO ${name} (${cols.map((c) => q(c.name)).join(", ")}) VALUES (${cols.map(() => "?").join(", ")}) ` +
      `ON CONFLICT (${q(columns.orgId!.name)}, ${q(columns.externalId!.name)}) DO UPDATE SET ${set} WHERE ${changed} ` +
      `RETURNING ${q(columns.id!.name)}`;
    st = { text, cols };
    byShape.set(shape, st);
  }
  return st;
}

function driverValue(col: AnySQLiteColumn, v: unknown): unknown {
  if (v === undefined || v === null) return null;
  return col.mapToDriverValue(v);
}

type Outcome = "created" | "updated" | "unchanged";

/**
 * Upserts rows of `table` keyed by (org_id, external_id), updating only `tracked` columns and only when one
 * of them changed. Outcomes come from RETURNING: an inserted row comes back with the fresh id we generated,
 * an updated one with its old id, an unchanged one not at all. One prepared statement, run per row.
 */
async function upsertKeyedOutcomes<TRow extends { id: string } & Record<string, unknown>>(
  store: Store,
  table: SQLiteTable,
  rows: TRow[],
  tracked: string[],
): Promise<{ outcome: Outcome; id: string | null }[]> {
  if (rows.length === 0) return [];
  const keys = Object.keys(rows[0]!);
  const { text, cols } = upsertStatement(table, keys, tracked);
  const params = rows.map((r) => keys.map((k, i) => driverValue(cols[i]!, r[k])));
  const results = await store.runMany(text, params);
  return results.map((returned, i) => {
    const id = returned[0]?.[0] as string | undefined;
    if (id === undefined) return { outcome: "unchanged", id: null };
    return { outcome: id === rows[i]!.id ? "created" : "updated", id };
  });
}

function countOutcomes(outcomes: { outcome: Outcome }[]): UpsertCounts {
  const counts = emptyCounts();
  for (const o of outcomes) counts[o.outcome]++;
  return counts;
}

async function upsertKeyed<TRow extends { id: string } & Record<string, unknown>>(
  store: Store,
  table: SQLiteTable,
  rows: TRow[],
  tracked: string[],
): Promise<UpsertCounts> {
  return countOutcomes(await upsertKeyedOutcomes(store, table, rows, tracked));
}

/** Maps external ids to store ids for one entity of one organisation. */
async function idsByExternal(
  db: Db,
  table: SQLiteTable & { id: AnySQLiteColumn; orgId: AnySQLiteColumn; externalId: AnySQLiteColumn },
  orgId: string,
  externalIds: string[],
  maxParams: number,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const unique = [...new Set(externalIds)];
  for (const chunk of chunksOf(unique, Math.max(1, maxParams - 1))) {
    const rows = (await db
      .select({ id: table.id, externalId: table.externalId })
      .from(table)
      .where(and(eq(table.orgId, orgId), inArray(table.externalId, chunk)))) as {
      id: string;
      externalId: string;
    }[];
    for (const r of rows) out.set(r.externalId, r.id);
  }
  return out;
}

export function contactIds(store: Store, orgId: string, externalIds: string[]): Promise<Map<string, string>> {
  return idsByExternal(store.db, contacts, orgId, externalIds, store.maxParams);
}

export function invoiceIds(store: Store, orgId: string, externalIds: string[]): Promise<Map<string, string>> {
  return idsByExternal(store.db, invoices, orgId, externalIds, store.maxParams);
}

export interface ContactUpsertOptions {
  /**
   * Write credit limit and timezone too (the source knows them); otherwise existing values, which the user may
   * have set in Creditpulse, are kept. By default a field is written when any row of the batch defines it:
   * a connector whose ledger has no credit limit leaves `creditLimitMinor` undefined and never wipes it.
   */
  withLimits?: boolean;
}

export async function upsertContacts(
  store: Store,
  orgId: string,
  rows: CanonicalContact[],
  now: number,
  opts: ContactUpsertOptions = {},
): Promise<UpsertCounts> {
  const withLimit = opts.withLimits ?? rows.some((r) => r.creditLimitMinor !== undefined);
  const withZone = opts.withLimits ?? rows.some((r) => r.timezone !== undefined);
  const withRoles = rows.some((r) => r.isCustomer !== undefined || r.isSupplier !== undefined);
  const withBalance = rows.some((r) => r.providerBalance !== undefined);
  const values = rows.map((c) => ({
    id: newId("cus"),
    orgId,
    externalId: c.externalId,
    name: c.name,
    emails: c.emails,
    phone: c.phone ?? null,
    ...(withLimit ? { creditLimitMinor: c.creditLimitMinor ?? null } : {}),
    ...(withZone ? { timezone: c.timezone ?? null } : {}),
    ...(withRoles ? { isCustomer: c.isCustomer ?? null, isSupplier: c.isSupplier ?? null } : {}),
    ...(withBalance
      ? {
          providerBalanceMinor: c.providerBalance?.outstandingMinor ?? null,
          providerOverdueMinor: c.providerBalance?.overdueMinor ?? null,
          providerBalanceCurrency: c.providerBalance?.currency ?? null,
        }
      : {}),
    deleted: c.deleted ?? false,
    providerUpdatedAt: c.providerUpdatedAt ?? null,
    createdAt: now,
    updatedAt: now,
  }));
  const tracked = ["name", "emails", "phone", "deleted", "providerUpdatedAt"];
  if (withLimit) tracked.push("creditLimitMinor");
  if (withZone) tracked.push("timezone");
  if (withRoles) tracked.push("isCustomer", "isSupplier");
  if (withBalance) tracked.push("providerBalanceMinor", "providerOverdueMinor", "providerBalanceCurrency");
  return upsertKeyed(store, contacts, values, tracked);
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
  const contactMap =
    knownContacts ??
    (await contactIds(
      store,
      orgId,
      rows.map((r) => r.contactExternalId),
    ));
  const values = rows.map((r) => {
    const contactId = contactMap.get(r.contactExternalId);
    if (!contactId)
      throw new MissingReferenceError("invoice", r.externalId, `contact ${r.contactExternalId}`);
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
  const contactMap = await contactIds(
    store,
    orgId,
    rows.map((r) => r.contactExternalId),
  );
  const values = rows.map((r) => {
    const contactId = contactMap.get(r.contactExternalId);
    if (!contactId)
      throw new MissingReferenceError("credit note", r.externalId, `contact ${r.contactExternalId}`);
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
