/**
 * Writes canonical ledger records (from any connector, the CSV import or the demo generator) into the store.
 * Every write is an idempotent upsert keyed by (org, external id): re-writing the same record changes nothing,
 * and the counts say what was created, updated or left unchanged.
 */
import { and, eq, inArray, or, type SQL, sql } from "drizzle-orm";
import type { AnySQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";
import type {
  CanonicalAllocation,
  CanonicalContact,
  CanonicalCreditNote,
  CanonicalInvoice,
  CanonicalPayment,
} from "../model";
import type { Db, Store } from "./db";
import { newId } from "./ids";
import { contacts, creditNoteAllocations, creditNotes, invoices, paymentAllocations, payments } from "./schema";

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

/** `col IS NOT excluded.col` for each column: true when the incoming row differs (null-safe). */
function anyChanged(cols: AnySQLiteColumn[]): SQL {
  const parts = cols.map((c) => sql`${c} IS NOT excluded.${sql.identifier(c.name)}`);
  return or(...parts)!;
}

function excludedSet(cols: Record<string, AnySQLiteColumn>): Record<string, SQL> {
  return Object.fromEntries(Object.entries(cols).map(([k, c]) => [k, sql`excluded.${sql.identifier(c.name)}`]));
}

function chunksOf<T>(rows: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

function rowsPerStatement(store: Store, columns: number): number {
  return Math.max(1, Math.floor(store.maxParams / columns));
}

/**
 * Upserts rows of `table` keyed by (org_id, external_id), updating only `tracked` columns and only when one
 * of them changed. Counts come from RETURNING: an inserted row comes back with the fresh id we generated,
 * an updated one with its old id, an unchanged one not at all.
 */
async function upsertKeyed<TRow extends { id: string } & Record<string, unknown>>(
  store: Store,
  table: SQLiteTable & { id: AnySQLiteColumn; orgId: AnySQLiteColumn; externalId: AnySQLiteColumn },
  rows: TRow[],
  tracked: Record<string, AnySQLiteColumn>,
  updatedAtCol: AnySQLiteColumn,
): Promise<UpsertCounts> {
  const counts = emptyCounts();
  if (rows.length === 0) return counts;
  const cols = Object.keys(rows[0]!).length;
  const set = { ...excludedSet(tracked), updatedAt: sql`excluded.${sql.identifier(updatedAtCol.name)}` };
  for (const chunk of chunksOf(rows, rowsPerStatement(store, cols))) {
    const fresh = new Set(chunk.map((r) => r.id));
    const returned = (await store.db
      .insert(table)
      .values(chunk as never)
      .onConflictDoUpdate({
        target: [table.orgId, table.externalId],
        set: set as never,
        setWhere: anyChanged(Object.values(tracked)),
      })
      .returning({ id: table.id })) as { id: string }[];
    const created = returned.filter((r) => fresh.has(r.id)).length;
    counts.created += created;
    counts.updated += returned.length - created;
    counts.unchanged += chunk.length - returned.length;
  }
  return counts;
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
      .where(and(eq(table.orgId, orgId), inArray(table.externalId, chunk)))) as { id: string; externalId: string }[];
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
  /** Write credit limit and timezone too (the source knows them); otherwise existing values are kept. */
  withLimits?: boolean;
}

export async function upsertContacts(
  store: Store,
  orgId: string,
  rows: CanonicalContact[],
  now: number,
  opts: ContactUpsertOptions = {},
): Promise<UpsertCounts> {
  const withLimits = opts.withLimits ?? true;
  const values = rows.map((c) => ({
    id: newId("cus"),
    orgId,
    externalId: c.externalId,
    name: c.name,
    emails: c.emails,
    phone: c.phone ?? null,
    ...(withLimits ? { creditLimitMinor: c.creditLimitMinor ?? null, timezone: c.timezone ?? null } : {}),
    deleted: c.deleted ?? false,
    providerUpdatedAt: c.providerUpdatedAt ?? null,
    createdAt: now,
    updatedAt: now,
  }));
  const tracked: Record<string, AnySQLiteColumn> = {
    name: contacts.name,
    emails: contacts.emails,
    phone: contacts.phone,
    deleted: contacts.deleted,
    providerUpdatedAt: contacts.providerUpdatedAt,
  };
  if (withLimits) Object.assign(tracked, { creditLimitMinor: contacts.creditLimitMinor, timezone: contacts.timezone });
  return upsertKeyed(store, contacts, values, tracked, contacts.updatedAt);
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
  const contactMap =
    knownContacts ??
    (await contactIds(
      store,
      orgId,
      rows.map((r) => r.contactExternalId),
    ));
  const values = rows.map((r) => {
    const contactId = contactMap.get(r.contactExternalId);
    if (!contactId) throw new MissingReferenceError("invoice", r.externalId, `contact ${r.contactExternalId}`);
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
  return upsertKeyed(
    store,
    t,
    values,
    {
      contactId: t.contactId,
      number: t.number,
      issueDate: t.issueDate,
      dueDate: t.dueDate,
      currency: t.currency,
      totalMinor: t.totalMinor,
      amountPaidMinor: t.amountPaidMinor,
      amountCreditedMinor: t.amountCreditedMinor,
      amountDueMinor: t.amountDueMinor,
      status: t.status,
      paidOn: t.paidOn,
      payUrl: t.payUrl,
      providerUpdatedAt: t.providerUpdatedAt,
    },
    t.updatedAt,
  );
}

type AllocationTable = typeof paymentAllocations | typeof creditNoteAllocations;

/**
 * Replaces the allocations of the given parents with `wanted`, touching only rows that differ, so a re-run
 * writes nothing. Returns true when anything changed.
 */
async function replaceAllocations(
  store: Store,
  orgId: string,
  table: AllocationTable,
  parentCol: AnySQLiteColumn,
  parentKey: "paymentId" | "creditNoteId",
  wanted: { parentId: string; invoiceId: string; amountMinor: number; date: string }[],
  parentIds: string[],
): Promise<Set<string>> {
  const changedParents = new Set<string>();
  if (parentIds.length === 0) return changedParents;
  const existing: { parentId: string; invoiceId: string; amountMinor: number; date: string }[] = [];
  for (const chunk of chunksOf(parentIds, store.maxParams - 1)) {
    const rows = (await store.db
      .select({ parentId: parentCol, invoiceId: table.invoiceId, amountMinor: table.amountMinor, date: table.date })
      .from(table)
      .where(inArray(parentCol, chunk))) as typeof existing;
    existing.push(...rows);
  }
  const key = (r: { parentId: string; invoiceId: string }) => `${r.parentId}\u0000${r.invoiceId}`;
  const wantedByKey = new Map(wanted.map((w) => [key(w), w]));
  const existingByKey = new Map(existing.map((e) => [key(e), e]));
  const stale = existing.filter((e) => {
    const w = wantedByKey.get(key(e));
    return !w || w.amountMinor !== e.amountMinor || w.date !== e.date;
  });
  const fresh = wanted.filter((w) => {
    const e = existingByKey.get(key(w));
    return !e || e.amountMinor !== w.amountMinor || e.date !== w.date;
  });
  for (const s of stale) {
    changedParents.add(s.parentId);
    await store.db.delete(table).where(and(eq(parentCol, s.parentId), eq(table.invoiceId, s.invoiceId)));
  }
  for (const chunk of chunksOf(fresh, rowsPerStatement(store, 5))) {
    for (const f of chunk) changedParents.add(f.parentId);
    await store.db.insert(table).values(
      chunk.map((f) => ({
        [parentKey]: f.parentId,
        invoiceId: f.invoiceId,
        orgId,
        amountMinor: f.amountMinor,
        date: f.date,
      })) as never,
    );
  }
  return changedParents;
}

async function resolveAllocations(
  store: Store,
  orgId: string,
  parents: { externalId: string; allocations: CanonicalAllocation[] }[],
  parentIds: Map<string, string>,
  entity: string,
) {
  const invoiceMap = await invoiceIds(
    store,
    orgId,
    parents.flatMap((p) => p.allocations.map((a) => a.invoiceExternalId)),
  );
  return parents.flatMap((p) =>
    p.allocations.map((a) => {
      const invoiceId = invoiceMap.get(a.invoiceExternalId);
      if (!invoiceId) throw new MissingReferenceError(entity, p.externalId, `invoice ${a.invoiceExternalId}`);
      return { parentId: parentIds.get(p.externalId)!, invoiceId, amountMinor: a.amountMinor, date: a.date };
    }),
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
  const counts = await upsertKeyed(
    store,
    t,
    values,
    {
      contactId: t.contactId,
      date: t.date,
      currency: t.currency,
      amountMinor: t.amountMinor,
      deleted: t.deleted,
      providerUpdatedAt: t.providerUpdatedAt,
    },
    t.updatedAt,
  );
  const ids = await idsByExternal(
    store.db,
    payments,
    orgId,
    rows.map((r) => r.externalId),
    store.maxParams,
  );
  // A deleted payment no longer pays anything.
  const live = rows.map((r) => (r.deleted ? { ...r, allocations: [] } : r));
  const wanted = await resolveAllocations(store, orgId, live, ids, "payment");
  const changed = await replaceAllocations(
    store,
    orgId,
    paymentAllocations,
    paymentAllocations.paymentId,
    "paymentId",
    wanted,
    [...ids.values()],
  );
  return adjustForAllocationChanges(counts, changed.size);
}

/** A parent row unchanged itself but whose allocations changed counts as updated. */
function adjustForAllocationChanges(counts: UpsertCounts, changedParents: number): UpsertCounts {
  const moved = Math.min(changedParents - counts.created - counts.updated, counts.unchanged);
  if (moved > 0) {
    counts.updated += moved;
    counts.unchanged -= moved;
  }
  return counts;
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
    if (!contactId) throw new MissingReferenceError("credit note", r.externalId, `contact ${r.contactExternalId}`);
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
  const counts = await upsertKeyed(
    store,
    t,
    values,
    {
      contactId: t.contactId,
      number: t.number,
      issueDate: t.issueDate,
      currency: t.currency,
      totalMinor: t.totalMinor,
      remainingMinor: t.remainingMinor,
      status: t.status,
      providerUpdatedAt: t.providerUpdatedAt,
    },
    t.updatedAt,
  );
  const ids = await idsByExternal(
    store.db,
    creditNotes,
    orgId,
    rows.map((r) => r.externalId),
    store.maxParams,
  );
  const live = rows.map((r) => (r.status === "void" || r.status === "deleted" ? { ...r, allocations: [] } : r));
  const wanted = await resolveAllocations(store, orgId, live, ids, "credit note");
  const changed = await replaceAllocations(
    store,
    orgId,
    creditNoteAllocations,
    creditNoteAllocations.creditNoteId,
    "creditNoteId",
    wanted,
    [...ids.values()],
  );
  return adjustForAllocationChanges(counts, changed.size);
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
