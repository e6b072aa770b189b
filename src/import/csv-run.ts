/**
 * One pass of the CSV import over the files (src/import/csv-import.ts says when each kind of pass runs):
 *   1. customers.csv (small) and payments.csv are read first; payments are reduced to per-invoice totals;
 *   2. invoices.csv is validated row by row and, while no row has been bad, written in chunks;
 *   3. payments are checked against their invoices, then written in a second read of payments.csv.
 * Bad rows are collected in the issue list and end the pass with RollBack before anything is published. With a
 * pacer each write step is its own short transaction; without one the caller holds one around the pass; with a
 * DiffState the pass only validates and compares with the store.
 */
import { basename } from "node:path";
import {
  type CsvFileStats,
  emptyStats,
  INVOICE_REQUIRED,
  PAYMENT_REQUIRED,
  parseInvoiceRow,
  parsePaymentRow,
  type RowOptions,
  readCsvBatches,
} from "../../connectors/csv/parse";
import { UserError } from "../errors";
import { type CanonicalContact, type CanonicalPayment, dateInZone, parseDecimalToMinor } from "../model";
import { contactIds, upsertContacts } from "../store/contacts";
import type { Store } from "../store/db";
import { hiddenSlug, publishHiddenOrg, type WritePacer } from "../store/import-runs";
import { upsertPayments } from "../store/ledger";
import { ensureOrg, type Organisation } from "../store/orgs";
import { addCounts, emptyCounts } from "../store/upsert";
import { type DiffState, diffInvoices, finishDiff } from "./csv-diff";
import {
  contactFor,
  type InvoiceItemContext,
  invoiceItem,
  readCustomersFile,
  readPaymentTotals,
  titleFromSlug,
} from "./csv-rows";
import {
  type ChunkItem,
  type CsvImportOptions,
  type CsvImportSummary,
  type InvoiceCustomers,
  type IssueList,
  RollBack,
} from "./csv-types";
import { auditImport, importSummary, retirePaymentsNotListed, writeInvoicePart } from "./csv-write";

export interface RunState {
  /** Null: the caller holds one transaction around the whole run. */
  pacer: WritePacer | null;
  /** The organisation built under a hidden slug, once created. */
  hiddenOrgId: string | null;
  /** Set: validate and compare only (an existing organisation), writing nothing. */
  diff?: DiffState;
  /**
   * True: validate every row of every file and count what would be imported, writing nothing (the browser's
   * check before an import). The summary's `created` counts are what the files hold.
   */
  check?: boolean;
}

export async function importRun(
  store: Store,
  opts: CsvImportOptions,
  existing: Organisation | undefined,
  issues: IssueList,
  run: RunState,
): Promise<CsvImportSummary> {
  const now = opts.now;
  const pacer = run.pacer;
  const chunkRows = () => pacer?.rows() ?? opts.chunkSize ?? 2000;
  /** One write step: its own short transaction in paced mode, else part of the caller's transaction. */
  const step = <T>(rows: number, work: () => Promise<T>): Promise<T> =>
    pacer ? pacer.step(rows, work) : work();
  const defaultCurrency = opts.currency ?? existing?.baseCurrency;
  const zone = existing?.timezone ?? opts.timezone ?? "UTC";
  const rowOpts: RowOptions = { dateFormat: opts.dateFormat, today: dateInZone(now, zone) };
  const invFile = basename(opts.invoices);
  const payFile = opts.payments ? basename(opts.payments) : "";
  let rowsSeen = 0;
  const progress = (phase: "validate" | "write", n: number) => {
    rowsSeen += n;
    opts.onProgress?.({ phase, rows: rowsSeen });
  };

  // 1. customers.csv and payments.csv (first read: totals per invoice).
  const customersFile = opts.customers ? await readCustomersFile(opts.customers, issues) : new Map();
  const paymentsByInvoice = opts.payments
    ? await readPaymentTotals(opts.payments, issues, rowOpts, (n) => progress("validate", n))
    : null;

  // 2. invoices.csv: validate every row; write while nothing has been bad.
  let org: Organisation | undefined = existing;
  let created = false;
  const baseFor = (firstCurrency: string | undefined) =>
    existing?.baseCurrency ?? opts.currency ?? firstCurrency;
  const ensure = async (firstCurrency: string | undefined) => {
    if (org) return org;
    const base = baseFor(firstCurrency);
    if (!base)
      throw new UserError("no_currency", `${invFile} has no rows to take a currency from: pass --currency`);
    const r = await ensureOrg(
      store.db,
      {
        // A first import is built under a hidden slug and published at the end.
        slug: pacer ? hiddenSlug() : opts.org,
        name: opts.name ?? titleFromSlug(opts.org),
        baseCurrency: base,
        timezone: opts.timezone ?? "UTC",
        provider: "csv",
      },
      now,
    );
    org = r.org;
    created = r.created;
    if (pacer) run.hiddenOrgId = r.org.id;
    return org;
  };

  const invoiceLine = new Map<string, number>();
  const items: InvoiceItemContext = { issues, paymentsByInvoice, payFile, paidInvoices: new Map() };
  const customers: InvoiceCustomers = new Map();
  const contactId = new Map<string, string>();
  const counts = { customers: emptyCounts(), invoices: emptyCounts(), payments: emptyCounts() };
  const invStats: CsvFileStats = emptyStats();
  const defaults = new Set<string>();

  const writeCustomers = async (ids: string[]) => {
    const o = await ensure(undefined);
    const rows: CanonicalContact[] = [];
    for (const id of new Set(ids)) {
      const contact = contactFor(id, customers.get(id), customersFile.get(id), o.baseCurrency, opts, issues);
      if (contact.defaulted) defaults.add("customer_name = customer_id");
      if (contact.contact) rows.push(contact.contact);
    }
    addCounts(
      counts.customers,
      await upsertContacts(store, o.id, rows, now, { withLimits: Boolean(opts.customers) }),
    );
    for (const [k, v] of await contactIds(store, o.id, ids)) contactId.set(k, v);
  };

  let chunk: ChunkItem[] = [];
  const diff = run.diff;
  let expectedPaymentCount = 0;
  let synthesized: CanonicalPayment[] = [];
  let newCustomers: string[] = [];
  let firstCurrency: string | undefined;
  const flush = async () => {
    if (issues.count > 0 || chunk.length === 0) {
      chunk = [];
      synthesized = [];
      return;
    }
    const rows = chunk;
    const pays = synthesized;
    const custs = newCustomers;
    chunk = [];
    synthesized = [];
    newCustomers = [];
    if (diff) {
      await diffInvoices(store, existing!.id, rows, diff);
      progress("validate", rows.length);
      return;
    }
    if (run.check) {
      counts.invoices.created += rows.length;
      progress("validate", rows.length);
      return;
    }
    // Steps of at most chunkRows() rows: a reader batch can be larger than one step should hold the lock for.
    for (let i = 0, size = chunkRows(); i < rows.length; i += size, size = chunkRows()) {
      const part = i === 0 && rows.length <= size ? rows : rows.slice(i, i + size);
      const numbers = part === rows ? null : new Set(part.map((r) => r.inv.externalId));
      const partPays = numbers ? pays.filter((p) => numbers.has(p.allocations[0]!.invoiceExternalId)) : pays;
      const partCusts = i === 0 ? custs : [];
      await step(part.length, async () => {
        const o = await ensure(part[0]!.inv.currency);
        if (partCusts.length) await writeCustomers(partCusts);
        if (issues.count > 0) return;
        await writeInvoicePart(store, o.id, part, now, contactId, counts.invoices);
        if (!created) counts.payments.updated += await retirePaymentsNotListed(store, o.id, part, now);
        if (partPays.length) addCounts(counts.payments, await upsertPayments(store, o.id, partPays, now));
      });
      progress("write", part.length);
    }
  };

  for await (const batch of readCsvBatches(opts.invoices, INVOICE_REQUIRED, issues.pending, {
    kind: "invoices",
    map: opts.map,
    stats: invStats,
  })) {
    for (const rec of batch) {
      const row = parseInvoiceRow(rec, invFile, defaultCurrency, issues.pending, rowOpts);
      if (!row) continue;
      firstCurrency ??= row.currency;
      const first = invoiceLine.get(row.number);
      if (first !== undefined) {
        issues.pending.push({
          file: invFile,
          line: row.line,
          column: "invoice_number",
          reason: `duplicate invoice number "${row.number}" (first on line ${first})`,
        });
        continue;
      }
      invoiceLine.set(row.number, row.line);
      const c = customers.get(row.customerId);
      if (!c) {
        customers.set(row.customerId, { name: row.customerName, emails: row.emails, line: row.line });
        newCustomers.push(row.customerId);
      } else {
        if (row.customerName && row.customerName !== c.name) {
          c.name = row.customerName;
          newCustomers.push(row.customerId);
        }
        if (row.emails.length && row.emails.join(";") !== c.emails.join(";")) {
          c.emails = row.emails;
          newCustomers.push(row.customerId);
        }
      }
      const item = invoiceItem(row, items, synthesized);
      expectedPaymentCount += item.expectedPayments.length;
      chunk.push(item);
    }
    issues.drain();
    if (chunk.length >= chunkRows()) await flush();
    else if (issues.count > 0) progress("validate", batch.length);
  }
  issues.drain();
  await flush();
  if (issues.count === 0 && invStats.hasHeader && invoiceLine.size === 0)
    issues.add({
      file: invFile,
      line: 1,
      column: null,
      reason:
        invStats.rows > 0
          ? "every row is empty: nothing to import"
          : "the file has a header but no invoice rows: nothing to import",
    });

  /** Every payments.csv row must name an invoice of invoices.csv. */
  const reportPaymentsForUnknownInvoices = () => {
    for (const [number, t] of paymentsByInvoice ?? [])
      if (!invoiceLine.has(number))
        for (const line of t.lines)
          issues.add({
            file: payFile,
            line,
            column: "invoice_number",
            reason: `payment for unknown invoice "${number}"`,
          });
  };

  // Customers named only in customers.csv, and every customer's final name and addresses.
  for (const id of customersFile.keys()) if (!customers.has(id)) newCustomers.push(id);
  if (diff) {
    issues.drain();
    if (issues.count > 0) throw new RollBack();
    reportPaymentsForUnknownInvoices();
    return finishDiff({
      store,
      opts,
      org: existing!,
      diff,
      issues,
      customers,
      customersFile,
      defaults,
      invStats,
      invoiceCount: invoiceLine.size,
      expectedPaymentCount,
      counts,
    });
  }
  if (run.check) {
    issues.drain();
    reportPaymentsForUnknownInvoices();
    const base = baseFor(firstCurrency);
    if (issues.count === 0 && !base)
      throw new UserError("no_currency", `${invFile} has no rows to take a currency from: pass --currency`);
    const ids = [...new Set([...customers.keys(), ...customersFile.keys()])];
    for (const id of ids) {
      const c = contactFor(id, customers.get(id), customersFile.get(id), base ?? "", opts, issues);
      if (c.defaulted) defaults.add("customer_name = customer_id");
    }
    issues.drain();
    if (issues.count > 0) throw new RollBack();
    counts.customers.created = ids.length;
    counts.payments.created = expectedPaymentCount;
    const name = existing?.name ?? opts.name ?? titleFromSlug(opts.org);
    return importSummary(opts, { name, created: !existing }, counts, invStats, defaults);
  }
  if (issues.count === 0 && newCustomers.length) {
    const ids = [...new Set(newCustomers)];
    await step(ids.length, () => writeCustomers(ids));
  }

  // 3. payments: every row must name an invoice of this file; then write them (second read).
  if (opts.payments) {
    reportPaymentsForUnknownInvoices();
    if (issues.count === 0) {
      const o = await ensure(undefined);
      const ordinal = new Map<string, number>();
      let rows: CanonicalPayment[] = [];
      const writePayments = async () => {
        const all = rows;
        rows = [];
        for (let i = 0, size = chunkRows(); i < all.length; i += size, size = chunkRows()) {
          const part = all.slice(i, i + size);
          await step(part.length, async () => {
            addCounts(counts.payments, await upsertPayments(store, o.id, part, now));
          });
          progress("write", part.length);
        }
      };
      for await (const batch of readCsvBatches(opts.payments, PAYMENT_REQUIRED, issues.pending, {
        kind: "payments",
      })) {
        for (const rec of batch) {
          const row = parsePaymentRow(rec, payFile, issues.pending, rowOpts);
          const inv = row && items.paidInvoices.get(row.invoiceNumber);
          if (!row || !inv) throw new UserError("file_changed", `${payFile} changed during the import`);
          const k = (ordinal.get(row.invoiceNumber) ?? 0) + 1;
          ordinal.set(row.invoiceNumber, k);
          const amount = parseDecimalToMinor(row.amountText, inv.currency)!;
          rows.push({
            externalId: `${row.invoiceNumber}#${k}`,
            contactExternalId: inv.customerId,
            date: row.date,
            currency: inv.currency,
            amountMinor: amount,
            allocations: [{ invoiceExternalId: row.invoiceNumber, amountMinor: amount, date: row.date }],
          });
        }
        if (rows.length >= chunkRows()) await writePayments();
      }
      await writePayments();
    }
  }
  issues.drain();
  if (issues.count > 0) throw new RollBack();

  const o = await ensure(undefined);
  const summary = importSummary(opts, { name: o.name, created }, counts, invStats, defaults);
  const finish = async () => {
    if (pacer && !(await publishHiddenOrg(store, o.id, opts.org, now)))
      throw new UserError(
        "org_taken",
        `organisation ${opts.org} was created by someone else while this import ran: nothing was imported`,
      );
    await auditImport(store, o.id, opts, summary);
  };
  if (pacer) await store.atomically(finish);
  else await finish();
  return summary;
}
