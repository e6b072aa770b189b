/**
 * CSV ledger import, streamed in one pass over invoices.csv:
 *   1. customers.csv (small) and payments.csv are read first; payments are reduced to per-invoice totals;
 *   2. invoices.csv is validated row by row and, while no row has been bad, written in chunks;
 *   3. payments are checked against their invoices, then written in a second read of payments.csv.
 * If any row anywhere is bad, nothing is written (or what was written is removed before anyone could see it),
 * and every bad row is reported with file, line, column and reason. Re-importing the same files changes
 * nothing; keys are customer_id and invoice_number. Memory holds per-invoice keys and a few numbers.
 *
 * Locking. Into an existing organisation the import runs in one transaction. A first import (a new
 * organisation, where the big files come) builds the organisation under a hidden slug in short paced
 * transactions (store/import-runs.ts), so other writers, in this process or another, wait milliseconds; a last
 * short transaction publishes it under its real slug, and a failure purges it: all or nothing as users see it.
 */
import { basename } from "node:path";
import { and, eq, inArray } from "drizzle-orm";
import type { ColumnMap, DateFormat } from "../../connectors/csv/mapping";
import { amountHint } from "../../connectors/csv/mapping";
import {
  type CsvFileStats,
  type CsvIssue,
  CUSTOMER_REQUIRED,
  type CustomerRow,
  emptyStats,
  INVOICE_REQUIRED,
  PAYMENT_REQUIRED,
  parseCustomerRow,
  parseInvoiceRow,
  parsePaymentRow,
  type RowOptions,
  readCsvBatches,
} from "../../connectors/csv/parse";
import { UserError } from "../errors";
import {
  type CanonicalContact,
  type CanonicalInvoice,
  type CanonicalPayment,
  currencyCode,
  dateInZone,
  isTimeZone,
  parseDecimalToMinor,
} from "../model";
import { audit } from "../store/audit";
import type { Store } from "../store/db";
import {
  applyImportedDisputes,
  hiddenSlug,
  type LiveInvoice,
  liveContacts,
  liveInvoices,
  orgLedgerVersion,
  publishHiddenOrg,
  purgeHiddenOrg,
  staleHiddenOrgs,
  WritePacer,
} from "../store/import-runs";
import {
  addCounts,
  contactIds,
  emptyCounts,
  invoiceIds,
  type UpsertCounts,
  upsertContacts,
  upsertInvoiceOutcomes,
  upsertPayments,
} from "../store/ledger";
import { ensureOrg, findOrgBySlug, type Organisation, SLUG_RE } from "../store/orgs";
import { paymentAllocations, payments } from "../store/schema";

export interface CsvImportOptions {
  org: string;
  invoices: string;
  payments?: string;
  customers?: string;
  /** Base currency of a new organisation, and the currency of rows that leave it empty. */
  currency?: string;
  timezone?: string;
  name?: string;
  now: number;
  onProgress?: (p: { phase: "validate" | "write"; rows: number }) => void;
  /** How many issues to keep for the report (all are counted). */
  maxIssues?: number;
  /** Rows per write in the one-transaction mode (an existing organisation). */
  chunkSize?: number;
  /** invoices.csv columns named by the file's own headers (`--map` / `--map-file`): canonical -> file column. */
  map?: ColumnMap;
  /** How dates are written in every file (default YYYY-MM-DD). */
  dateFormat?: DateFormat;
  /** A first import's pacing: longest write step and the pause after it, in ms (defaults 80 and 25). */
  pace?: { holdMs: number; gapMs: number };
  /**
   * A re-import writes only the invoices that differ from the store, in one short transaction, when there are
   * at most this many (default 5000); more, and it is one transaction over the whole file.
   */
  diffLimit?: number;
}

export interface CsvImportRows {
  /** Data rows of invoices.csv. */
  read: number;
  created: number;
  updated: number;
  unchanged: number;
  /** Rows with every field empty (skipped). */
  ignored: number;
}

export interface CsvImportSummary {
  organisation: { slug: string; name: string; created: boolean };
  customers: UpsertCounts;
  invoices: UpsertCounts;
  payments: UpsertCounts;
  /** invoices.csv rows: read = created + updated + unchanged + ignored. */
  rows: CsvImportRows;
  /** Columns of invoices.csv that nothing read (listed, never used). */
  ignoredColumns: string[];
  /** Values Creditpulse filled in, e.g. "customer_name = customer_id". */
  defaults: string[];
}

export type CsvImportResult =
  | { ok: true; summary: CsvImportSummary }
  | { ok: false; issues: CsvIssue[]; issueCount: number };

class IssueList {
  readonly kept: CsvIssue[] = [];
  count = 0;
  /** The array readers push into; drained into the kept list after each batch. */
  readonly pending: CsvIssue[] = [];
  constructor(private readonly max: number) {}
  drain(): void {
    for (const i of this.pending) {
      this.count++;
      if (this.kept.length < this.max) this.kept.push(i);
    }
    this.pending.length = 0;
  }
  add(i: CsvIssue): void {
    this.pending.push(i);
    this.drain();
  }
}

/** Payments of one invoice as read from payments.csv, before the invoice is known. */
interface PaymentTotals {
  /** Amount texts are kept until the invoice's currency is known. */
  amounts: string[];
  lines: number[];
  dates: string[];
}

/** Thrown inside the transaction to roll it back when validation found bad rows. */
class RollBack extends Error {}

/** A payment an invoice row implies (its `#paid` payment, or its payments.csv rows). */
interface ExpectedPayment {
  externalId: string;
  amountMinor: number;
  date: string;
}

interface ChunkItem {
  line: number;
  inv: CanonicalInvoice;
  expectedPayments: ExpectedPayment[];
  disputed: boolean | undefined;
}

/**
 * A re-import's first pass: validate and compare with the store, writing nothing. `apply` then writes only what
 * differs, in one short transaction; past `limit` changed invoices the rows are not kept (`overflow`) and the
 * import runs as one streamed transaction instead.
 */
interface DiffState {
  limit: number;
  overflow: boolean;
  invoices: ChunkItem[];
  apply?: () => Promise<CsvImportSummary>;
  /** Nothing differs: the summary, all unchanged. */
  unchanged?: CsvImportSummary;
}

/** A dead first import's hidden organisation is purged by the next import after this long. */
const STALE_IMPORT_MS = 6 * 3600_000;

export async function importCsv(store: Store, opts: CsvImportOptions): Promise<CsvImportResult> {
  if (!SLUG_RE.test(opts.org))
    throw new UserError("bad_slug", `--org "${opts.org}": use lower-case letters, digits and dashes`);
  if (opts.currency && !currencyCode.safeParse(opts.currency).success)
    throw new UserError("bad_currency", `--currency "${opts.currency}": not an ISO 4217 currency code`);
  if (opts.timezone && !isTimeZone(opts.timezone))
    throw new UserError(
      "bad_timezone",
      `--timezone "${opts.timezone}": not an IANA timezone such as Europe/London`,
    );
  const existing = await findOrgBySlug(store.db, opts.org);
  if (existing && existing.provider !== "csv")
    throw new UserError(
      "wrong_provider",
      `organisation ${opts.org} is connected to ${existing.provider}; CSV import is for CSV organisations`,
    );

  const issues = new IssueList(opts.maxIssues ?? 1000);
  if (existing) {
    try {
      // Validate and compare with the store first, holding no lock; then write only what differs.
      const diff: DiffState = { limit: opts.diffLimit ?? 5000, overflow: false, invoices: [] };
      const version = await orgLedgerVersion(store, existing.id);
      await importRun(store, opts, existing, issues, { pacer: null, hiddenOrgId: null, diff });
      const whole = () =>
        importRun(store, opts, existing, new IssueList(opts.maxIssues ?? 1000), {
          pacer: null,
          hiddenOrgId: null,
        });
      const summary = await store.atomically(async () => {
        // Someone else wrote this ledger since the comparison (another import, a dispute): compare again inside
        // this transaction by running the whole import in it.
        if (diff.overflow || (await orgLedgerVersion(store, existing.id)) !== version) return whole();
        if (diff.unchanged) {
          await auditImport(store, existing.id, opts, diff.unchanged);
          return diff.unchanged;
        }
        return diff.apply ? diff.apply() : whole();
      });
      return { ok: true, summary };
    } catch (err) {
      if (err instanceof RollBack) return { ok: false, issues: issues.kept, issueCount: issues.count };
      throw err;
    }
  }

  // A first import: built hidden, in short paced steps, published at the end; purged on any failure.
  const pacer = new WritePacer(store, opts.pace?.holdMs, opts.pace?.gapMs);
  try {
    for (const id of await staleHiddenOrgs(store, opts.now - STALE_IMPORT_MS))
      await purgeHiddenOrg(store, id, pacer);
  } finally {
    await pacer.finish();
  }
  const run: RunState = { pacer, hiddenOrgId: null };
  try {
    const summary = await importRun(store, opts, undefined, issues, run);
    return { ok: true, summary };
  } catch (err) {
    if (run.hiddenOrgId) await purgeHiddenOrg(store, run.hiddenOrgId, pacer);
    if (err instanceof RollBack) return { ok: false, issues: issues.kept, issueCount: issues.count };
    throw err;
  } finally {
    await pacer.finish();
  }
}

interface RunState {
  /** Null: the caller holds one transaction around the whole run. */
  pacer: WritePacer | null;
  /** The organisation built under a hidden slug, once created. */
  hiddenOrgId: string | null;
  /** Set: validate and compare only (an existing organisation), writing nothing. */
  diff?: DiffState;
}

async function importRun(
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
  const customersFile = new Map<string, CustomerRow>();
  if (opts.customers) {
    const file = basename(opts.customers);
    for await (const batch of readCsvBatches(opts.customers, CUSTOMER_REQUIRED, issues.pending, {
      kind: "customers",
    })) {
      for (const rec of batch) {
        const row = parseCustomerRow(rec, file, issues.pending);
        if (!row) continue;
        const dup = customersFile.get(row.customerId);
        if (dup)
          issues.pending.push({
            file,
            line: row.line,
            column: "customer_id",
            reason: `duplicate customer_id "${row.customerId}" (first on line ${dup.line})`,
          });
        else customersFile.set(row.customerId, row);
      }
      issues.drain();
    }
    issues.drain();
  }
  const paymentsByInvoice = new Map<string, PaymentTotals>();
  if (opts.payments) {
    for await (const batch of readCsvBatches(opts.payments, PAYMENT_REQUIRED, issues.pending, {
      kind: "payments",
    })) {
      for (const rec of batch) {
        const row = parsePaymentRow(rec, payFile, issues.pending, rowOpts);
        if (!row) continue;
        let t = paymentsByInvoice.get(row.invoiceNumber);
        if (!t) {
          t = { amounts: [], lines: [], dates: [] };
          paymentsByInvoice.set(row.invoiceNumber, t);
        }
        t.amounts.push(row.amountText);
        t.lines.push(row.line);
        t.dates.push(row.date);
      }
      issues.drain();
      progress("validate", batch.length);
    }
    issues.drain();
  }

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
  /** Invoices whose payments come from payments.csv: number -> [currency, total, issue date]. */
  const paidInvoices = new Map<string, { currency: string; issueDate: string; customerId: string }>();
  const customers = new Map<string, { name: string; emails: string[]; line: number }>();
  const contactId = new Map<string, string>();
  const counts = { customers: emptyCounts(), invoices: emptyCounts(), payments: emptyCounts() };
  const paymentsTruth = Boolean(opts.payments);
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
        if (!created) counts.payments.updated += await retireStalePayments(store, o.id, part, now);
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

      let paid: number;
      let paidOn: string | null;
      const expected: ExpectedPayment[] = [];
      if (paymentsTruth) {
        const t = paymentsByInvoice.get(row.number);
        paid = 0;
        paidOn = null;
        if (t) {
          paidInvoices.set(row.number, {
            currency: row.currency,
            issueDate: row.issueDate,
            customerId: row.customerId,
          });
          let last = "";
          for (let k = 0; k < t.amounts.length; k++) {
            const bad = (column: string, reason: string) =>
              issues.pending.push({ file: payFile, line: t.lines[k]!, column, reason });
            const amount = parseDecimalToMinor(t.amounts[k]!, row.currency);
            if (amount === undefined)
              bad(
                "amount",
                `not an amount in ${row.currency}: "${t.amounts[k]}"${amountHint(t.amounts[k]!)}`,
              );
            else if (amount <= 0) bad("amount", `payment amount must be positive, got ${t.amounts[k]}`);
            else if (t.dates[k]! < row.issueDate)
              bad(
                "payment_date",
                `payment date ${t.dates[k]} is before the invoice's issue date ${row.issueDate}`,
              );
            else {
              paid += amount;
              if (t.dates[k]! > last) last = t.dates[k]!;
              if (paid > row.totalMinor)
                bad(
                  "amount",
                  `payments for invoice "${row.number}" add up to more than its total ${formatTotal(row)}`,
                );
            }
            expected.push({
              externalId: `${row.number}#${k + 1}`,
              amountMinor: amount ?? 0,
              date: t.dates[k]!,
            });
          }
          if (paid >= row.totalMinor && t.amounts.length > 0) paidOn = last;
        }
      } else {
        paid = row.amountPaidMinor ?? (row.paidDate ? row.totalMinor : 0);
        paidOn = row.paidDate && paid >= row.totalMinor ? row.paidDate : null;
        if (paid > 0 && row.paidDate && !row.isVoid) {
          const externalId = `${row.number}#paid`;
          expected.push({ externalId, amountMinor: paid, date: row.paidDate });
          synthesized.push({
            externalId,
            contactExternalId: row.customerId,
            date: row.paidDate,
            currency: row.currency,
            amountMinor: paid,
            allocations: [{ invoiceExternalId: row.number, amountMinor: paid, date: row.paidDate }],
          });
        }
      }
      if (row.isVoid) {
        paid = 0;
        paidOn = null;
      }
      const due = row.isVoid ? 0 : row.totalMinor - paid;
      expectedPaymentCount += expected.length;
      chunk.push({
        line: row.line,
        expectedPayments: expected,
        disputed: row.disputed,
        inv: {
          externalId: row.number,
          contactExternalId: row.customerId,
          number: row.number,
          issueDate: row.issueDate,
          dueDate: row.dueDate,
          currency: row.currency,
          totalMinor: row.totalMinor,
          amountPaidMinor: paid,
          amountCreditedMinor: 0,
          amountDueMinor: due,
          status: row.isVoid ? "void" : due === 0 ? "paid" : "authorised",
          paidOn,
        },
      });
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

  // Customers named only in customers.csv, and every customer's final name and addresses.
  for (const id of customersFile.keys()) if (!customers.has(id)) newCustomers.push(id);
  if (diff) {
    issues.drain();
    if (issues.count > 0) throw new RollBack();
    return finishDiff();
  }
  if (issues.count === 0 && newCustomers.length) {
    const ids = [...new Set(newCustomers)];
    await step(ids.length, () => writeCustomers(ids));
  }

  /** Every payments.csv row must name an invoice of invoices.csv. */
  function reportPaymentsForUnknownInvoices(): void {
    for (const [number, t] of paymentsByInvoice)
      if (!invoiceLine.has(number))
        for (const line of t.lines)
          issues.add({
            file: payFile,
            line,
            column: "invoice_number",
            reason: `payment for unknown invoice "${number}"`,
          });
  }

  /** The diff pass's end: compare every customer's final state, check payments.csv, and prepare `apply`. */
  async function finishDiff(): Promise<CsvImportSummary> {
    const d = diff!;
    const o = existing!;
    reportPaymentsForUnknownInvoices();
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
    const summaryWith = (c: typeof counts): CsvImportSummary => ({
      organisation: { slug: opts.org, name: o.name, created: false },
      customers: c.customers,
      invoices: c.invoices,
      payments: c.payments,
      rows: {
        read: invStats.rows,
        created: c.invoices.created,
        updated: c.invoices.updated,
        unchanged: c.invoices.unchanged,
        ignored: invStats.blankRows,
      },
      ignoredColumns: invStats.ignoredColumns,
      defaults: [...defaults],
    });
    if (!d.overflow && d.invoices.length === 0 && changedContacts.length === 0) {
      d.unchanged = summaryWith({
        customers: { created: 0, updated: 0, unchanged: allIds.length },
        invoices: { created: 0, updated: 0, unchanged: invoiceLine.size },
        payments: { created: 0, updated: 0, unchanged: expectedPaymentCount },
      });
      return d.unchanged;
    }
    d.apply = async () => {
      const c = { customers: emptyCounts(), invoices: emptyCounts(), payments: emptyCounts() };
      if (changedContacts.length)
        addCounts(c.customers, await upsertContacts(store, o.id, changedContacts, now, { withLimits }));
      c.customers.unchanged += allIds.length - changedContacts.length;
      const cmap = await contactIds(store, o.id, [
        ...new Set(d.invoices.map((i) => i.inv.contactExternalId)),
      ]);
      let paymentsSeen = 0;
      for (let i = 0; i < d.invoices.length; i += 2000) {
        const part = d.invoices.slice(i, i + 2000);
        await writeInvoicePart(store, o.id, part, now, cmap, c.invoices);
        c.payments.updated += await retireStalePayments(store, o.id, part, now);
        const pays: CanonicalPayment[] = part.flatMap((p) =>
          p.expectedPayments.map((e) => ({
            externalId: e.externalId,
            contactExternalId: p.inv.contactExternalId,
            date: e.date,
            currency: p.inv.currency,
            amountMinor: e.amountMinor,
            allocations: [{ invoiceExternalId: p.inv.externalId, amountMinor: e.amountMinor, date: e.date }],
          })),
        );
        paymentsSeen += pays.length;
        if (pays.length) addCounts(c.payments, await upsertPayments(store, o.id, pays, now));
      }
      c.invoices.unchanged += invoiceLine.size - d.invoices.length;
      c.payments.unchanged += expectedPaymentCount - paymentsSeen;
      const summary = summaryWith(c);
      await auditImport(store, o.id, opts, summary);
      return summary;
    };
    return summaryWith(counts);
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
          const inv = row && paidInvoices.get(row.invoiceNumber);
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
  const summary: CsvImportSummary = {
    organisation: { slug: opts.org, name: o.name, created },
    customers: counts.customers,
    invoices: counts.invoices,
    payments: counts.payments,
    rows: {
      read: invStats.rows,
      created: counts.invoices.created,
      updated: counts.invoices.updated,
      unchanged: counts.invoices.unchanged,
      ignored: invStats.blankRows,
    },
    ignoredColumns: invStats.ignoredColumns,
    defaults: [...defaults],
  };
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

async function auditImport(store: Store, orgId: string, opts: CsvImportOptions, summary: CsvImportSummary) {
  await audit(
    store.db,
    {
      orgId,
      actor: "import:csv",
      action: "ledger.imported",
      detail: { files: [opts.invoices, opts.payments, opts.customers].filter(Boolean), ...summary },
    },
    opts.now,
  );
}

/** Keeps the invoices of this chunk that differ from the store (or are new) for the re-import's write. */
async function diffInvoices(store: Store, orgId: string, rows: ChunkItem[], diff: DiffState): Promise<void> {
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
    l.payUrl !== null ||
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

function formatTotal(row: { totalMinor: number; currency: string }) {
  return `${row.totalMinor} minor units of ${row.currency}`;
}

/**
 * The canonical contact from both files (customers.csv wins); a customer with no name anywhere is named by its
 * customer_id. Undefined contact, with an issue, when a value is bad.
 */
function contactFor(
  id: string,
  fromInv: { name: string; emails: string[]; line: number } | undefined,
  fromFile: CustomerRow | undefined,
  baseCurrency: string,
  opts: CsvImportOptions,
  issues: IssueList,
): { contact: CanonicalContact | undefined; defaulted: boolean } {
  const given = fromFile?.name || fromInv?.name || "";
  let creditLimitMinor: number | null = null;
  if (fromFile?.creditLimitText) {
    const v = parseDecimalToMinor(fromFile.creditLimitText, baseCurrency);
    if (v === undefined || v < 0) {
      issues.add({
        file: basename(opts.customers!),
        line: fromFile.line,
        column: "credit_limit",
        reason: `not a non-negative amount in ${baseCurrency}: "${fromFile.creditLimitText}"${amountHint(fromFile.creditLimitText)}`,
      });
      return { contact: undefined, defaulted: false };
    }
    creditLimitMinor = v;
  }
  return {
    contact: {
      externalId: id,
      name: given || id,
      emails: fromFile?.emails.length ? fromFile.emails : (fromInv?.emails ?? []),
      creditLimitMinor,
      timezone: fromFile?.timezone ?? null,
    },
    defaulted: !given,
  };
}

/**
 * Payments an earlier import wrote for these invoices but that the files no longer list (a payment row removed,
 * or payments.csv now given instead of paid_date) are marked deleted and stop paying the invoice.
 */
async function retireStalePayments(
  store: Store,
  orgId: string,
  chunk: { inv: CanonicalInvoice; expectedPayments: ExpectedPayment[] }[],
  now: number,
): Promise<number> {
  const ids = await invoiceIds(
    store,
    orgId,
    chunk.map((c) => c.inv.externalId),
  );
  if (ids.size === 0) return 0;
  const expected = new Set(chunk.flatMap((c) => c.expectedPayments.map((e) => e.externalId)));
  const existing = await store.db
    .select({ paymentId: payments.id, externalId: payments.externalId })
    .from(paymentAllocations)
    .innerJoin(payments, eq(payments.id, paymentAllocations.paymentId))
    .where(and(inArray(paymentAllocations.invoiceId, [...ids.values()]), eq(payments.deleted, false)));
  const stale = [...new Set(existing.filter((e) => !expected.has(e.externalId)).map((e) => e.paymentId))];
  for (const paymentId of stale) {
    await store.db.delete(paymentAllocations).where(eq(paymentAllocations.paymentId, paymentId));
    await store.db.update(payments).set({ deleted: true, updatedAt: now }).where(eq(payments.id, paymentId));
  }
  return stale.length;
}

function titleFromSlug(slug: string): string {
  return slug
    .split("-")
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join(" ");
}

/**
 * Writes a slice of invoices with their imported dispute flags and counts each invoice's outcome (a changed
 * dispute flag is an update of that invoice). The first import's paced steps and a re-import's one write share it.
 */
async function writeInvoicePart(
  store: Store,
  orgId: string,
  part: { inv: CanonicalInvoice; disputed?: boolean | null }[],
  now: number,
  contacts: Map<string, string> | undefined,
  counts: UpsertCounts,
): Promise<void> {
  const outcomes = await upsertInvoiceOutcomes(
    store,
    orgId,
    part.map((p) => p.inv),
    now,
    contacts,
  );
  const yes = part.filter((p) => p.disputed === true).map((p) => p.inv.externalId);
  const no = part.filter((p) => p.disputed === false).map((p) => p.inv.externalId);
  const flagged = yes.length || no.length ? await applyImportedDisputes(store, orgId, yes, no, now) : null;
  part.forEach((p, k) => {
    let outcome = outcomes[k]!.outcome;
    if (outcome === "unchanged" && flagged?.has(p.inv.externalId)) outcome = "updated";
    counts[outcome]++;
  });
}
