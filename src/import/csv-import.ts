/**
 * CSV ledger import, streamed in one pass over invoices.csv inside one transaction:
 *   1. customers.csv (small) and payments.csv are read first; payments are reduced to per-invoice totals;
 *   2. invoices.csv is validated row by row and, while no row has been bad, written in chunks;
 *   3. payments are checked against their invoices, then written in a second read of payments.csv.
 * If any row anywhere is bad, the transaction is rolled back: nothing is written, and every bad row is
 * reported with file, line, column and reason. Re-importing the same files changes nothing; keys are
 * customer_id and invoice_number. Memory holds per-invoice keys and a few numbers, never the rows.
 */
import { basename } from "node:path";
import { and, eq, inArray } from "drizzle-orm";
import {
  type CsvIssue,
  CUSTOMER_REQUIRED,
  type CustomerRow,
  INVOICE_REQUIRED,
  PAYMENT_REQUIRED,
  parseCustomerRow,
  parseInvoiceRow,
  parsePaymentRow,
  readCsvBatches,
} from "../../connectors/csv/parse";
import { UserError } from "../errors";
import {
  type CanonicalContact,
  type CanonicalInvoice,
  type CanonicalPayment,
  currencyCode,
  isTimeZone,
  parseDecimalToMinor,
} from "../model";
import { audit } from "../store/audit";
import type { Store } from "../store/db";
import {
  addCounts,
  contactIds,
  emptyCounts,
  invoiceIds,
  type UpsertCounts,
  upsertContacts,
  upsertInvoices,
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
  chunkSize?: number;
}

export interface CsvImportSummary {
  organisation: { slug: string; name: string; created: boolean };
  customers: UpsertCounts;
  invoices: UpsertCounts;
  payments: UpsertCounts;
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
  try {
    const summary = await store.atomically(() => importInTransaction(store, opts, existing, issues));
    return { ok: true, summary };
  } catch (err) {
    if (err instanceof RollBack) return { ok: false, issues: issues.kept, issueCount: issues.count };
    throw err;
  }
}

async function importInTransaction(
  store: Store,
  opts: CsvImportOptions,
  existing: Organisation | undefined,
  issues: IssueList,
): Promise<CsvImportSummary> {
  const now = opts.now;
  const chunkSize = opts.chunkSize ?? 2000;
  const defaultCurrency = opts.currency ?? existing?.baseCurrency;
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
    for await (const batch of readCsvBatches(opts.customers, CUSTOMER_REQUIRED, issues.pending)) {
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
    for await (const batch of readCsvBatches(opts.payments, PAYMENT_REQUIRED, issues.pending)) {
      for (const rec of batch) {
        const row = parsePaymentRow(rec, payFile, issues.pending);
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
        slug: opts.org,
        name: opts.name ?? titleFromSlug(opts.org),
        baseCurrency: base,
        timezone: opts.timezone ?? "UTC",
        provider: "csv",
      },
      now,
    );
    org = r.org;
    created = r.created;
    return org;
  };

  const invoiceLine = new Map<string, number>();
  /** Invoices whose payments come from payments.csv: number -> [currency, total, issue date]. */
  const paidInvoices = new Map<string, { currency: string; issueDate: string; customerId: string }>();
  const customers = new Map<string, { name: string; emails: string[]; line: number }>();
  const contactId = new Map<string, string>();
  const counts = { customers: emptyCounts(), invoices: emptyCounts(), payments: emptyCounts() };
  const paymentsTruth = Boolean(opts.payments);

  const writeCustomers = async (ids: string[]) => {
    const o = await ensure(undefined);
    const rows: CanonicalContact[] = [];
    for (const id of new Set(ids)) {
      const contact = contactFor(id, customers.get(id), customersFile.get(id), o.baseCurrency, opts, issues);
      if (contact) rows.push(contact);
    }
    addCounts(
      counts.customers,
      await upsertContacts(store, o.id, rows, now, { withLimits: Boolean(opts.customers) }),
    );
    for (const [k, v] of await contactIds(store, o.id, ids)) contactId.set(k, v);
  };

  let chunk: { inv: CanonicalInvoice; expectedPayments: string[] }[] = [];
  let synthesized: CanonicalPayment[] = [];
  let newCustomers: string[] = [];
  const flush = async () => {
    if (issues.count > 0 || chunk.length === 0) {
      chunk = [];
      synthesized = [];
      return;
    }
    const o = await ensure(chunk[0]!.inv.currency);
    if (newCustomers.length) await writeCustomers(newCustomers);
    newCustomers = [];
    if (issues.count > 0) return;
    addCounts(
      counts.invoices,
      await upsertInvoices(
        store,
        o.id,
        chunk.map((c) => c.inv),
        now,
        contactId,
      ),
    );
    if (!created) counts.payments.updated += await retireStalePayments(store, o.id, chunk, now);
    if (synthesized.length) addCounts(counts.payments, await upsertPayments(store, o.id, synthesized, now));
    progress("write", chunk.length);
    chunk = [];
    synthesized = [];
  };

  const invRequired = opts.customers ? INVOICE_REQUIRED : [...INVOICE_REQUIRED, "customer_name"];
  for await (const batch of readCsvBatches(opts.invoices, invRequired, issues.pending)) {
    for (const rec of batch) {
      const row = parseInvoiceRow(rec, invFile, defaultCurrency, issues.pending);
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
      const expected: string[] = [];
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
            if (amount === undefined) bad("amount", `not an amount in ${row.currency}: "${t.amounts[k]}"`);
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
            expected.push(`${row.number}#${k + 1}`);
          }
          if (paid >= row.totalMinor && t.amounts.length > 0) paidOn = last;
        }
      } else {
        paid = row.amountPaidMinor ?? (row.paidDate ? row.totalMinor : 0);
        paidOn = row.paidDate && paid >= row.totalMinor ? row.paidDate : null;
        if (paid > 0 && row.paidDate && !row.isVoid) {
          const externalId = `${row.number}#paid`;
          expected.push(externalId);
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
      chunk.push({
        expectedPayments: expected,
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
    if (chunk.length >= chunkSize) await flush();
    else if (issues.count > 0) progress("validate", batch.length);
  }
  issues.drain();
  await flush();

  // Customers named only in customers.csv, and every customer's final name and addresses.
  for (const id of customersFile.keys()) if (!customers.has(id)) newCustomers.push(id);
  if (issues.count === 0 && (newCustomers.length || !org)) await writeCustomers([...new Set(newCustomers)]);

  // 3. payments: every row must name an invoice of this file; then write them (second read).
  if (opts.payments) {
    for (const [number, t] of paymentsByInvoice)
      if (!invoiceLine.has(number))
        for (const line of t.lines)
          issues.add({
            file: payFile,
            line,
            column: "invoice_number",
            reason: `payment for unknown invoice "${number}"`,
          });
    if (issues.count === 0) {
      const o = await ensure(undefined);
      const ordinal = new Map<string, number>();
      for await (const batch of readCsvBatches(opts.payments, PAYMENT_REQUIRED, issues.pending)) {
        const rows: CanonicalPayment[] = [];
        for (const rec of batch) {
          const row = parsePaymentRow(rec, payFile, issues.pending);
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
        addCounts(counts.payments, await upsertPayments(store, o.id, rows, now));
        progress("write", rows.length);
      }
    }
  }
  issues.drain();
  if (issues.count > 0) throw new RollBack();

  const o = await ensure(undefined);
  const summary: CsvImportSummary = {
    organisation: { slug: o.slug, name: o.name, created },
    customers: counts.customers,
    invoices: counts.invoices,
    payments: counts.payments,
  };
  await audit(
    store.db,
    {
      orgId: o.id,
      actor: "import:csv",
      action: "ledger.imported",
      detail: { files: [opts.invoices, opts.payments, opts.customers].filter(Boolean), ...summary },
    },
    now,
  );
  return summary;
}

function formatTotal(row: { totalMinor: number; currency: string }) {
  return `${row.totalMinor} minor units of ${row.currency}`;
}

/** The canonical contact from both files (customers.csv wins), or undefined with an issue when it is bad. */
function contactFor(
  id: string,
  fromInv: { name: string; emails: string[]; line: number } | undefined,
  fromFile: CustomerRow | undefined,
  baseCurrency: string,
  opts: CsvImportOptions,
  issues: IssueList,
): CanonicalContact | undefined {
  const name = fromFile?.name || fromInv?.name || "";
  if (!name) {
    issues.add({
      file: fromInv ? basename(opts.invoices) : basename(opts.customers ?? ""),
      line: fromInv?.line ?? fromFile?.line ?? 0,
      column: "customer_name",
      reason: `customer "${id}" has no customer_name: give it on the customer's rows or in customers.csv`,
    });
    return undefined;
  }
  let creditLimitMinor: number | null = null;
  if (fromFile?.creditLimitText) {
    const v = parseDecimalToMinor(fromFile.creditLimitText, baseCurrency);
    if (v === undefined || v < 0) {
      issues.add({
        file: basename(opts.customers!),
        line: fromFile.line,
        column: "credit_limit",
        reason: `not a non-negative amount in ${baseCurrency}: "${fromFile.creditLimitText}"`,
      });
      return undefined;
    }
    creditLimitMinor = v;
  }
  return {
    externalId: id,
    name,
    emails: fromFile?.emails.length ? fromFile.emails : (fromInv?.emails ?? []),
    creditLimitMinor,
    timezone: fromFile?.timezone ?? null,
  };
}

/**
 * Payments an earlier import wrote for these invoices but that the files no longer list (a payment row removed,
 * or payments.csv now given instead of paid_date) are marked deleted and stop paying the invoice.
 */
async function retireStalePayments(
  store: Store,
  orgId: string,
  chunk: { inv: CanonicalInvoice; expectedPayments: string[] }[],
  now: number,
): Promise<number> {
  const ids = await invoiceIds(
    store,
    orgId,
    chunk.map((c) => c.inv.externalId),
  );
  if (ids.size === 0) return 0;
  const expected = new Set(chunk.flatMap((c) => c.expectedPayments));
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
