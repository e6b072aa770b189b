/**
 * A re-import's first pass: validate and compare with the store, writing nothing. `apply` then writes only what
 * differs, in one short transaction; past `limit` changed invoices the rows are not kept (`overflow`) and the
 * import runs as one streamed transaction instead.
 */
import type { CsvFileStats, CustomerRow } from "../../connectors/csv/parse";
import type { CanonicalContact } from "../model";
import { contactIds, upsertContacts } from "../store/contacts";
import type { Store } from "../store/db";
import { type LiveInvoice, liveContacts, liveInvoices } from "../store/import-runs";
import { upsertPayments } from "../store/ledger";
import type { Organisation } from "../store/orgs";
import { addCounts, emptyCounts } from "../store/upsert";
import { contactFor, itemPayments } from "./csv-rows";
import {
  type ChunkItem,
  type CsvImportOptions,
  type CsvImportSummary,
  type InvoiceCustomers,
  type IssueList,
  RollBack,
} from "./csv-types";
import {
  auditImport,
  type ImportCounts,
  importSummary,
  retirePaymentsNotListed,
  writeInvoicePart,
} from "./csv-write";

export interface DiffState {
  limit: number;
  overflow: boolean;
  invoices: ChunkItem[];
  apply?: () => Promise<CsvImportSummary>;
  /** Nothing differs: the summary, all unchanged. */
  unchanged?: CsvImportSummary;
}

/** Keeps the invoices of this chunk that differ from the store (or are new) for the re-import's write. */
export async function diffInvoices(
  store: Store,
  orgId: string,
  rows: ChunkItem[],
  diff: DiffState,
): Promise<void> {
  if (diff.overflow) return;
  const live = await liveInvoices(
    store,
    orgId,
    rows.map((r) => r.inv.externalId),
  );
  for (const r of rows) {
    const l = live.get(r.inv.externalId);
    if (l && !invoiceDiffers(r, l)) continue;
    diff.invoices.push(r);
    if (diff.invoices.length > diff.limit) {
      diff.overflow = true;
      diff.invoices = [];
      return;
    }
  }
}

/** True when writing the row would change the stored invoice, its dispute flag or its payments. */
function invoiceDiffers(r: ChunkItem, l: LiveInvoice): boolean {
  const i = r.inv;
  if (
    l.contactExternalId !== i.contactExternalId ||
    l.number !== i.number ||
    l.issueDate !== i.issueDate ||
    l.dueDate !== i.dueDate ||
    l.currency !== i.currency ||
    l.totalMinor !== i.totalMinor ||
    l.amountPaidMinor !== i.amountPaidMinor ||
    l.amountCreditedMinor !== i.amountCreditedMinor ||
    l.amountDueMinor !== i.amountDueMinor ||
    l.status !== i.status ||
    l.paidOn !== (i.paidOn ?? null) ||
    l.payUrl !== (i.payUrl ?? null) ||
    l.providerUpdatedAt !== null
  )
    return true;
  if (r.disputed === true && l.disputedAt === null) return true;
  if (r.disputed === false && l.disputedAt !== null) return true;
  if (l.payments.length !== r.expectedPayments.length) return true;
  for (const e of r.expectedPayments) {
    const p = l.payments.find((x) => x.externalId === e.externalId);
    if (
      !p ||
      p.amountMinor !== e.amountMinor ||
      p.date !== e.date ||
      p.allocationMinor !== e.amountMinor ||
      p.allocationDate !== e.date ||
      p.currency !== i.currency ||
      p.contactExternalId !== i.contactExternalId ||
      p.providerUpdatedAt !== null
    )
      return true;
  }
  return false;
}

/** The contacts whose final state from the files differs from the store (or that are new). */
async function diffContacts(
  store: Store,
  orgId: string,
  rows: CanonicalContact[],
  withLimits: boolean,
): Promise<CanonicalContact[]> {
  const live = await liveContacts(
    store,
    orgId,
    rows.map((r) => r.externalId),
  );
  return rows.filter((c) => {
    const l = live.get(c.externalId);
    if (!l) return true;
    if (
      l.name !== c.name ||
      l.emailsJson !== JSON.stringify(c.emails) ||
      l.phone !== (c.phone ?? null) ||
      l.deleted ||
      l.providerUpdatedAt !== null
    )
      return true;
    return (
      withLimits &&
      (l.creditLimitMinor !== (c.creditLimitMinor ?? null) || l.timezone !== (c.timezone ?? null))
    );
  });
}

/** What the diff pass saw of the files, for its end. */
interface DiffPass {
  store: Store;
  opts: CsvImportOptions;
  org: Organisation;
  diff: DiffState;
  issues: IssueList;
  customers: InvoiceCustomers;
  customersFile: Map<string, CustomerRow>;
  defaults: Set<string>;
  invStats: CsvFileStats;
  /** Invoices in invoices.csv, and payments their rows imply. */
  invoiceCount: number;
  expectedPaymentCount: number;
  /** The counts so far (all zero: the pass writes nothing). */
  counts: ImportCounts;
}

/**
 * The diff pass's end (payments.csv already checked): compare every customer's final state and prepare `apply`,
 * or `unchanged` when nothing differs.
 */
export async function finishDiff(p: DiffPass): Promise<CsvImportSummary> {
  const { store, opts, diff: d, org: o, issues, customers, customersFile, defaults } = p;
  const now = opts.now;
  const allIds = [...new Set([...customers.keys(), ...customersFile.keys()])];
  const finalContacts: CanonicalContact[] = [];
  for (const id of allIds) {
    const c = contactFor(id, customers.get(id), customersFile.get(id), o.baseCurrency, opts, issues);
    if (c.defaulted) defaults.add("customer_name = customer_id");
    if (c.contact) finalContacts.push(c.contact);
  }
  issues.drain();
  if (issues.count > 0) throw new RollBack();
  const withLimits = Boolean(opts.customers);
  const changedContacts = await diffContacts(store, o.id, finalContacts, withLimits);
  const summaryWith = (c: ImportCounts) =>
    importSummary(opts, { name: o.name, created: false }, c, p.invStats, defaults);
  if (!d.overflow && d.invoices.length === 0 && changedContacts.length === 0) {
    d.unchanged = summaryWith({
      customers: { created: 0, updated: 0, unchanged: allIds.length },
      invoices: { created: 0, updated: 0, unchanged: p.invoiceCount },
      payments: { created: 0, updated: 0, unchanged: p.expectedPaymentCount },
    });
    return d.unchanged;
  }
  d.apply = async () => {
    const c = { customers: emptyCounts(), invoices: emptyCounts(), payments: emptyCounts() };
    if (changedContacts.length)
      addCounts(c.customers, await upsertContacts(store, o.id, changedContacts, now, { withLimits }));
    c.customers.unchanged += allIds.length - changedContacts.length;
    const cmap = await contactIds(store, o.id, [...new Set(d.invoices.map((i) => i.inv.contactExternalId))]);
    let paymentsSeen = 0;
    for (let i = 0; i < d.invoices.length; i += 2000) {
      const part = d.invoices.slice(i, i + 2000);
      await writeInvoicePart(store, o.id, part, now, cmap, c.invoices);
      c.payments.updated += await retirePaymentsNotListed(store, o.id, part, now);
      const pays = part.flatMap(itemPayments);
      paymentsSeen += pays.length;
      if (pays.length) addCounts(c.payments, await upsertPayments(store, o.id, pays, now));
    }
    c.invoices.unchanged += p.invoiceCount - d.invoices.length;
    c.payments.unchanged += p.expectedPaymentCount - paymentsSeen;
    const summary = summaryWith(c);
    await auditImport(store, o.id, opts, summary);
    return summary;
  };
  return summaryWith(p.counts);
}
