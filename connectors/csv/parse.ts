/**
 * Streaming readers and row validation for the CSV ledger format (see README "CSV import").
 * Each reader yields one validated row or the issues found in it; nothing here touches the store.
 */
import { createReadStream } from "node:fs";
import { basename } from "node:path";
import { CsvError, parse } from "csv-parse";
import { currencyCode, isCurrencyCode, isIsoDate, isTimeZone, parseDecimalToMinor } from "../../src/model";

export interface CsvIssue {
  file: string;
  line: number;
  column: string | null;
  reason: string;
}

export function formatIssue(i: CsvIssue): string {
  return `${i.file}:${i.line}${i.column ? ` [${i.column}]` : ""}: ${i.reason}`;
}

export interface CsvRecord {
  line: number;
  fields: Record<string, string>;
}

/**
 * Streams a CSV file with a header row, in batches of records (one await per batch, not per row, which is
 * what makes a million-row file quick). Column names are matched case-insensitively and may come in any order.
 * A header missing a required column is reported once, as an issue on line 1, and no rows are read.
 */
export async function* readCsvBatches(
  path: string,
  required: readonly string[],
  issues: CsvIssue[],
): AsyncGenerator<CsvRecord[]> {
  const file = basename(path);
  const parser = parse({
    bom: true,
    skip_empty_lines: true,
    relax_column_count: true,
    trim: true,
    info: true,
  });
  const input = createReadStream(path);
  input.on("error", (err) => parser.destroy(err));
  input.pipe(parser);
  let header: string[] | undefined;
  let ended = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  parser.on("readable", () => wake?.());
  parser.on("end", () => {
    ended = true;
    wake?.();
  });
  parser.on("error", (err) => {
    failure = err;
    wake?.();
  });
  for (;;) {
    const batch: CsvRecord[] = [];
    for (let item = parser.read(); item !== null; item = parser.read()) {
      const { record, info } = item as { record: string[]; info: { lines: number } };
      if (!header) {
        header = record.map((c) => c.trim().toLowerCase());
        const missing = required.filter((c) => !header?.includes(c));
        if (missing.length) {
          issues.push({ file, line: 1, column: missing.join(", "), reason: "missing required column(s)" });
          parser.destroy();
          input.destroy();
          return;
        }
        continue;
      }
      const fields: Record<string, string> = {};
      for (let i = 0; i < header.length; i++) fields[header[i]!] = record[i] ?? "";
      batch.push({ line: info.lines, fields });
    }
    if (batch.length) yield batch;
    if (failure) {
      if (failure instanceof CsvError) {
        const line = (failure as CsvError & { lines?: number }).lines ?? 0;
        issues.push({ file, line, column: null, reason: `unreadable CSV: ${failure.message}` });
        return;
      }
      if ((failure as NodeJS.ErrnoException).code === "ENOENT") {
        issues.push({ file, line: 0, column: null, reason: `file not found: ${path}` });
        return;
      }
      throw failure;
    }
    if (ended) return;
    await new Promise<void>((r) => {
      wake = r;
    });
    wake = undefined;
  }
}

/** Record by record, for callers that do not need batches. */
export async function* readCsv(
  path: string,
  required: readonly string[],
  issues: CsvIssue[],
): AsyncGenerator<CsvRecord> {
  for await (const batch of readCsvBatches(path, required, issues)) yield* batch;
}

const EMAIL_RE = /^[^\s@;,<>"]+@[^\s@;,<>"]+\.[^\s@;,<>"]+$/;

/** Splits `a@x.com; b@y.com` and validates each address. */
export function parseEmails(text: string): { emails: string[]; bad: string[] } {
  const parts = text
    .split(";")
    .map((e) => e.trim())
    .filter(Boolean);
  return { emails: parts.filter((e) => EMAIL_RE.test(e)), bad: parts.filter((e) => !EMAIL_RE.test(e)) };
}

export interface InvoiceRow {
  line: number;
  customerId: string;
  customerName: string;
  emails: string[];
  number: string;
  issueDate: string;
  dueDate: string;
  currency: string;
  totalMinor: number;
  /** From the file: undefined when the column is empty. */
  amountPaidMinor: number | undefined;
  paidDate: string | null;
  isVoid: boolean;
}

export const INVOICE_REQUIRED = ["customer_id", "invoice_number", "issue_date", "due_date", "total"] as const;
const INVOICE_STATUSES = new Set(["", "void", "open", "authorised", "paid"]);

/** Validates one invoices.csv row. `defaultCurrency` is the organisation's (undefined for a new one). */
export function parseInvoiceRow(
  rec: CsvRecord,
  file: string,
  defaultCurrency: string | undefined,
  issues: CsvIssue[],
): InvoiceRow | undefined {
  const f = rec.fields;
  const before = issues.length;
  const bad = (column: string, reason: string) => issues.push({ file, line: rec.line, column, reason });
  const need = (column: string) => {
    const v = f[column] ?? "";
    if (!v) bad(column, "required value is empty");
    return v;
  };
  const customerId = need("customer_id");
  const number = need("invoice_number");
  const issueDate = need("issue_date");
  const dueDate = need("due_date");
  if (issueDate && !isIsoDate(issueDate)) bad("issue_date", `bad date "${issueDate}": expected YYYY-MM-DD`);
  if (dueDate && !isIsoDate(dueDate)) bad("due_date", `bad date "${dueDate}": expected YYYY-MM-DD`);
  if (isIsoDate(issueDate) && isIsoDate(dueDate) && dueDate < issueDate)
    bad("due_date", `due date ${dueDate} is before issue date ${issueDate}`);

  let currency = (f.currency ?? "").toUpperCase();
  if (!currency) {
    if (defaultCurrency) currency = defaultCurrency;
    else bad("currency", "empty, and the organisation has no base currency yet: pass --currency");
  } else if (!currencyCode.safeParse(currency).success || !isCurrencyCode(currency)) {
    bad("currency", `unknown currency "${f.currency}": expected an ISO 4217 code such as GBP`);
    currency = "";
  }

  const emailsText = f.customer_email ?? "";
  const { emails, bad: badEmails } = parseEmails(emailsText);
  if (badEmails.length) bad("customer_email", `not an email address: ${badEmails.join(", ")}`);

  const status = (f.status ?? "").toLowerCase();
  if (!INVOICE_STATUSES.has(status)) bad("status", `unknown status "${f.status}": leave empty or write void`);

  let totalMinor = 0;
  let totalOk = false;
  let amountPaidMinor: number | undefined;
  const totalText = need("total");
  if (currency && totalText) {
    const t = parseDecimalToMinor(totalText, currency);
    if (t === undefined) bad("total", `not an amount in ${currency}: "${totalText}"`);
    else if (t < 0)
      bad("total", `negative total ${totalText}: enter credits as credit notes, not negative invoices`);
    else {
      totalMinor = t;
      totalOk = true;
    }
  }
  const paidText = f.amount_paid ?? "";
  if (currency && paidText) {
    const p = parseDecimalToMinor(paidText, currency);
    if (p === undefined) bad("amount_paid", `not an amount in ${currency}: "${paidText}"`);
    else if (p < 0) bad("amount_paid", `negative amount paid ${paidText}`);
    else if (totalOk && p > totalMinor)
      bad("amount_paid", `paid ${paidText} is more than the total ${totalText}`);
    else amountPaidMinor = p;
  }
  const paidDate = f.paid_date ?? "";
  if (paidDate) {
    if (!isIsoDate(paidDate)) bad("paid_date", `bad date "${paidDate}": expected YYYY-MM-DD`);
    else if (isIsoDate(issueDate) && paidDate < issueDate)
      bad("paid_date", `paid date ${paidDate} is before issue date ${issueDate}`);
    else if (amountPaidMinor !== undefined && amountPaidMinor < totalMinor)
      bad("paid_date", "paid_date says fully paid, but amount_paid is less than the total");
  }
  if (issues.length > before) return undefined;
  return {
    line: rec.line,
    customerId,
    customerName: f.customer_name ?? "",
    emails,
    number,
    issueDate,
    dueDate,
    currency,
    totalMinor,
    amountPaidMinor,
    paidDate: paidDate || null,
    isVoid: status === "void",
  };
}

export interface PaymentRow {
  line: number;
  invoiceNumber: string;
  date: string;
  amountText: string;
}

export const PAYMENT_REQUIRED = ["invoice_number", "payment_date", "amount"] as const;

export function parsePaymentRow(rec: CsvRecord, file: string, issues: CsvIssue[]): PaymentRow | undefined {
  const f = rec.fields;
  const before = issues.length;
  const bad = (column: string, reason: string) => issues.push({ file, line: rec.line, column, reason });
  const invoiceNumber = f.invoice_number ?? "";
  const date = f.payment_date ?? "";
  const amountText = f.amount ?? "";
  if (!invoiceNumber) bad("invoice_number", "required value is empty");
  if (!date) bad("payment_date", "required value is empty");
  else if (!isIsoDate(date)) bad("payment_date", `bad date "${date}": expected YYYY-MM-DD`);
  if (!amountText) bad("amount", "required value is empty");
  if (issues.length > before) return undefined;
  return { line: rec.line, invoiceNumber, date, amountText };
}

export interface CustomerRow {
  line: number;
  customerId: string;
  name: string;
  emails: string[];
  creditLimitText: string;
  timezone: string | null;
}

export const CUSTOMER_REQUIRED = ["customer_id"] as const;

export function parseCustomerRow(rec: CsvRecord, file: string, issues: CsvIssue[]): CustomerRow | undefined {
  const f = rec.fields;
  const before = issues.length;
  const bad = (column: string, reason: string) => issues.push({ file, line: rec.line, column, reason });
  const customerId = f.customer_id ?? "";
  if (!customerId) bad("customer_id", "required value is empty");
  const { emails, bad: badEmails } = parseEmails(f.customer_email ?? "");
  if (badEmails.length) bad("customer_email", `not an email address: ${badEmails.join(", ")}`);
  const timezone = f.timezone ?? "";
  if (timezone && !isTimeZone(timezone))
    bad("timezone", `unknown timezone "${timezone}": expected e.g. Europe/London`);
  if (issues.length > before) return undefined;
  return {
    line: rec.line,
    customerId,
    name: f.customer_name ?? "",
    emails,
    creditLimitText: f.credit_limit ?? "",
    timezone: timezone || null,
  };
}
