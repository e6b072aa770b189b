/**
 * CSV ledger import. Two streamed passes: the first validates every row of every file and keeps only compact
 * per-invoice aggregates; the second, run only when no row is bad, writes in chunks inside one transaction.
 * Re-importing the same files changes nothing; keys are customer_id and invoice_number.
 */
import { basename } from "node:path";
import { and, eq, inArray } from "drizzle-orm";
import {
  CUSTOMER_REQUIRED,
  type CsvIssue,
  type CustomerRow,
  INVOICE_REQUIRED,
  type InvoiceRow,
  PAYMENT_REQUIRED,
  parseCustomerRow,
  parseInvoiceRow,
  parsePaymentRow,
  readCsv,
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
import { ensureOrg, findOrgBySlug, SLUG_RE } from "../store/orgs";
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

/** Per-invoice facts kept between the passes, in parallel arrays indexed by the invoice's position. */
interface InvoiceFacts {
  index: Map<string, number>;
  line: number[];
  customer: string[];
  totalMinor: number[];
  currency: string[];
  issueDate: string[];
  paidSum: number[];
  paymentCount: number[];
  lastPaymentDate: string[];
}

class IssueList {
  readonly kept: CsvIssue[] = [];
  count = 0;
  constructor(private readonly max: number) {}
  /** The array readers push into; drained into the kept list after each row. */
  readonly pending: CsvIssue[] = [];
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

export async function importCsv(store: Store, opts: CsvImportOptions): Promise<CsvImportResult> {
  if (!SLUG_RE.test(opts.org))
    throw new UserError("bad_slug", `--org "${opts.org}": use lower-case letters, digits and dashes`);
  if (opts.currency && !currencyCode.safeParse(opts.currency).success)
    throw new UserError("bad_currency", `--currency "${opts.currency}": not an ISO 4217 currency code`);
  if (opts.timezone && !isTimeZone(opts.timezone))
    throw new UserError("bad_timezone", `--timezone "${opts.timezone}": not an IANA timezone such as Europe/London`);

  const existing = await findOrgBySlug(store.db, opts.org);
  if (existing && existing.provider !== "csv")
    throw new UserError(
      "wrong_provider",
      `organisation ${opts.org} is connected to ${existing.provider}; CSV import is for CSV organisations`,
    );
  const defaultCurrency = opts.currency ?? existing?.baseCurrency;
  const issues = new IssueList(opts.maxIssues ?? 1000);
  const chunkSize = opts.chunkSize ?? 2000;

  // ---- pass 1: validate everything, keep compact aggregates ----
  const customersFile = new Map<string, CustomerRow>();
  if (opts.customers) {
    const file = basename(opts.customers);
    for await (const rec of readCsv(opts.customers, CUSTOMER_REQUIRED, issues.pending)) {
      const row = parseCustomerRow(rec, file, issues.pending);
      if (row) {
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

  const facts: InvoiceFacts = {
    index: new Map(),
    line: [],
    customer: [],
    totalMinor: [],
    currency: [],
    issueDate: [],
    paidSum: [],
    paymentCount: [],
    lastPaymentDate: [],
  };
  const customersFromInvoices = new Map<string, { name: string; emails: string[]; line: number }>();
  const currencyUse = new Map<string, number>();
  const invFile = basename(opts.invoices);
  const invRequired = opts.customers ? INVOICE_REQUIRED : [...INVOICE_REQUIRED, "customer_name"];
  let rowsSeen = 0;
  for await (const rec of readCsv(opts.invoices, invRequired, issues.pending)) {
    const row = parseInvoiceRow(rec, invFile, defaultCurrency, issues.pending);
    if (row) {
      const first = facts.index.get(row.number);
      if (first !== undefined) {
        issues.pending.push({
          file: invFile,
          line: row.line,
          column: "invoice_number",
          reason: `duplicate invoice number "${row.number}" (first on line ${facts.line[first]})`,
        });
      } else {
        const i = facts.line.length;
        facts.index.set(row.number, i);
        facts.line.push(row.line);
        facts.customer.push(row.customerId);
        facts.totalMinor.push(row.totalMinor);
        facts.currency.push(row.currency);
        facts.issueDate.push(row.issueDate);
        facts.paidSum.push(0);
        facts.paymentCount.push(0);
        facts.lastPaymentDate.push("");
        currencyUse.set(row.currency, (currencyUse.get(row.currency) ?? 0) + 1);
      }
      const c = customersFromInvoices.get(row.customerId);
      if (!c) customersFromInvoices.set(row.customerId, { name: row.customerName, emails: row.emails, line: row.line });
      else {
        if (row.customerName) c.name = row.customerName;
        if (row.emails.length) c.emails = row.emails;
      }
    }
    issues.drain();
    if (++rowsSeen % 50_000 === 0) opts.onProgress?.({ phase: "validate", rows: rowsSeen });
  }
  issues.drain();

  if (opts.payments) {
    const file = basename(opts.payments);
    for await (const rec of readCsv(opts.payments, PAYMENT_REQUIRED, issues.pending)) {
      const row = parsePaymentRow(rec, file, issues.pending);
      if (row) {
        const i = facts.index.get(row.invoiceNumber);
        const bad = (column: string, reason: string) => issues.pending.push({ file, line: row.line, column, reason });
        if (i === undefined) bad("invoice_number", `payment for unknown invoice "${row.invoiceNumber}"`);
        else {
          const currency = facts.currency[i]!;
          const amount = parseDecimalToMinor(row.amountText, currency);
          if (amount === undefined) bad("amount", `not an amount in ${currency}: "${row.amountText}"`);
          else if (amount <= 0) bad("amount", `payment amount must be positive, got ${row.amountText}`);
          else if (row.date < facts.issueDate[i]!)
            bad("payment_date", `payment date ${row.date} is before the invoice's issue date ${facts.issueDate[i]}`);
          else {
            facts.paidSum[i]! += amount;
            facts.paymentCount[i]! += 1;
            if (row.date > facts.lastPaymentDate[i]!) facts.lastPaymentDate[i] = row.date;
            if (facts.paidSum[i]! > facts.totalMinor[i]!)
              bad("amount", `payments for invoice "${row.invoiceNumber}" add up to more than its total`);
          }
        }
      }
      issues.drain();
      if (++rowsSeen % 50_000 === 0) opts.onProgress?.({ phase: "validate", rows: rowsSeen });
    }
    issues.drain();
  }

  const baseCurrency =
    existing?.baseCurrency ?? opts.currency ?? [...currencyUse.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  if (!baseCurrency) {
    if (issues.count > 0) return { ok: false, issues: issues.kept, issueCount: issues.count };
    throw new UserError("no_currency", `${invFile} has no rows to take a currency from: pass --currency`);
  }

  // Every customer needs a name, from either file.
  const contactRows: CanonicalContact[] = [];
  const allCustomerIds = new Set([...customersFromInvoices.keys(), ...customersFile.keys()]);
  for (const id of allCustomerIds) {
    const fromFile = customersFile.get(id);
    const fromInv = customersFromInvoices.get(id);
    const name = fromFile?.name || fromInv?.name || "";
    if (!name) {
      issues.add({
        file: fromInv ? invFile : basename(opts.customers ?? ""),
        line: fromInv?.line ?? fromFile?.line ?? 0,
        column: "customer_name",
        reason: `customer "${id}" has no customer_name in any file`,
      });
      continue;
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
        continue;
      }
      creditLimitMinor = v;
    }
    contactRows.push({
      externalId: id,
      name,
      emails: fromFile?.emails.length ? fromFile.emails : (fromInv?.emails ?? []),
      creditLimitMinor,
      timezone: fromFile?.timezone ?? null,
    });
  }

  if (issues.count > 0) return { ok: false, issues: issues.kept, issueCount: issues.count };

  // ---- pass 2: write ----
  const now = opts.now;
  const written = await store.atomically(async () => {
    const { org, created } = await ensureOrg(
      store.db,
      {
        slug: opts.org,
        name: opts.name ?? titleFromSlug(opts.org),
        baseCurrency,
        timezone: opts.timezone ?? "UTC",
        provider: "csv",
      },
      now,
    );
    const customers = emptyCounts();
    for (let i = 0; i < contactRows.length; i += chunkSize) {
      addCounts(
        customers,
        await upsertContacts(store, org.id, contactRows.slice(i, i + chunkSize), now, {
          withLimits: Boolean(opts.customers),
        }),
      );
    }
    const contactMap = await contactIds(store, org.id, [...allCustomerIds]);
    const invoiceCounts = emptyCounts();
    const paymentCounts = emptyCounts();
    const paymentsTruth = Boolean(opts.payments);

    let invChunk: { row: InvoiceRow; inv: CanonicalInvoice; expectedPayments: string[] }[] = [];
    let synthesized: CanonicalPayment[] = [];
    let rowsWritten = 0;
    const pass2Issues: CsvIssue[] = [];
    const flush = async () => {
      if (invChunk.length === 0) return;
      addCounts(
        invoiceCounts,
        await upsertInvoices(
          store,
          org.id,
          invChunk.map((c) => c.inv),
          now,
          contactMap,
        ),
      );
      paymentCounts.updated += await retireStalePayments(store, org.id, invChunk, now);
      if (synthesized.length) addCounts(paymentCounts, await upsertPayments(store, org.id, synthesized, now));
      rowsWritten += invChunk.length;
      opts.onProgress?.({ phase: "write", rows: rowsWritten });
      invChunk = [];
      synthesized = [];
    };

    for await (const rec of readCsv(opts.invoices, invRequired, pass2Issues)) {
      const row = parseInvoiceRow(rec, invFile, defaultCurrency, pass2Issues);
      if (!row || pass2Issues.length) throw new UserError("file_changed", `${invFile} changed during the import`);
      const i = facts.index.get(row.number)!;
      let paid: number;
      let paidOn: string | null;
      const expected: string[] = [];
      if (paymentsTruth) {
        paid = facts.paidSum[i]!;
        paidOn = paid >= row.totalMinor && facts.paymentCount[i]! > 0 ? facts.lastPaymentDate[i]! : null;
        for (let k = 1; k <= facts.paymentCount[i]!; k++) expected.push(`${row.number}#${k}`);
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
      invChunk.push({
        row,
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
      if (invChunk.length >= chunkSize) await flush();
    }
    await flush();

    if (opts.payments) {
      const file = basename(opts.payments);
      const ordinal = new Array<number>(facts.line.length).fill(0);
      let batch: CanonicalPayment[] = [];
      const flushPayments = async () => {
        if (!batch.length) return;
        addCounts(paymentCounts, await upsertPayments(store, org.id, batch, now));
        rowsWritten += batch.length;
        opts.onProgress?.({ phase: "write", rows: rowsWritten });
        batch = [];
      };
      for await (const rec of readCsv(opts.payments, PAYMENT_REQUIRED, pass2Issues)) {
        const row = parsePaymentRow(rec, file, pass2Issues);
        const i = row ? facts.index.get(row.invoiceNumber) : undefined;
        if (!row || i === undefined) throw new UserError("file_changed", `${file} changed during the import`);
        const currency = facts.currency[i]!;
        const amount = parseDecimalToMinor(row.amountText, currency)!;
        ordinal[i]! += 1;
        batch.push({
          externalId: `${row.invoiceNumber}#${ordinal[i]}`,
          contactExternalId: facts.customer[i]!,
          date: row.date,
          currency,
          amountMinor: amount,
          allocations: [{ invoiceExternalId: row.invoiceNumber, amountMinor: amount, date: row.date }],
        });
        if (batch.length >= chunkSize) await flushPayments();
      }
      await flushPayments();
    }
    const summary: CsvImportSummary = {
      organisation: { slug: org.slug, name: org.name, created },
      customers,
      invoices: invoiceCounts,
      payments: paymentCounts,
    };
    await audit(
      store.db,
      {
        orgId: org.id,
        actor: "import:csv",
        action: "ledger.imported",
        detail: { files: [opts.invoices, opts.payments, opts.customers].filter(Boolean), ...summary },
      },
      now,
    );
    return summary;
  });
  return { ok: true, summary: written };
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
    .select({ paymentId: payments.id, externalId: payments.externalId, invoiceId: paymentAllocations.invoiceId })
    .from(paymentAllocations)
    .innerJoin(payments, eq(payments.id, paymentAllocations.paymentId))
    .where(and(inArray(paymentAllocations.invoiceId, [...ids.values()]), eq(payments.deleted, false)));
  const stale = existing.filter((e) => !expected.has(e.externalId));
  for (const s of stale) {
    await store.db.delete(paymentAllocations).where(eq(paymentAllocations.paymentId, s.paymentId));
    await store.db.update(payments).set({ deleted: true, updatedAt: now }).where(eq(payments.id, s.paymentId));
  }
  return new Set(stale.map((s) => s.paymentId)).size;
}

function titleFromSlug(slug: string): string {
  return slug
    .split("-")
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join(" ");
}
