/**
 * Streaming readers and row validation for the CSV ledger format (see README "CSV import").
 * Each reader yields one validated row or the issues found in it; nothing here touches the store.
 */

import { createReadStream } from "node:fs";
import { basename } from "node:path";
import { CsvError, parse } from "csv-parse";
import { currencyCode, isCurrencyCode, isTimeZone, parseDecimalToMinor } from "../../src/model";
import { safeHttpUrl } from "../../src/reminders/pay-links";
import {
  amountHint,
  type ColumnMap,
  type ColumnMapping,
  type CsvFileKind,
  type DateFormat,
  parseDateAs,
  parseDisputed,
  resolveColumns,
} from "./mapping";

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

/** What the reader found in a file's header and rows, for the import summary. */
export interface CsvFileStats {
  /** Data rows read (not the header; lines that are wholly empty are skipped by the parser). */
  rows: number;
  /** Rows whose every field is empty (spreadsheets add them at the end): skipped and counted. */
  blankRows: number;
  /** Header columns nothing reads. */
  ignoredColumns: string[];
  /** False when the file had no header row at all. */
  hasHeader: boolean;
}

export function emptyStats(): CsvFileStats {
  return { rows: 0, blankRows: 0, ignoredColumns: [], hasHeader: false };
}

export interface ReadCsvOptions {
  kind?: CsvFileKind;
  map?: ColumnMap;
  stats?: CsvFileStats;
}

/**
 * Streams a CSV file with a header row, in batches of records (one await per batch, not per row, which is
 * what makes a million-row file quick). Column names are matched case-insensitively and may come in any order;
 * `map` names the file's own columns for other systems' exports (see mapping.ts). A header problem (missing
 * required column, duplicate column, mapped column absent, no header at all) is reported once, as an issue on
 * line 1, and no rows are read. A row with more or fewer fields than the header is an issue naming its line.
 */
export async function* readCsvBatches(
  path: string,
  required: readonly string[],
  issues: CsvIssue[],
  opts: ReadCsvOptions = {},
): AsyncGenerator<CsvRecord[]> {
  const file = basename(path);
  const stats = opts.stats ?? emptyStats();
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
  let columns: [string, number][] = [];
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
        header = record.map((c) => c.trim());
        stats.hasHeader = true;
        let mapping: ColumnMapping;
        if (opts.kind) mapping = resolveColumns(header, opts.kind, opts.map ?? {}, required);
        else {
          // No file kind: every column by its lower-cased name (callers with their own formats).
          const cols: Record<string, number> = {};
          header.forEach((h, i) => {
            cols[h.toLowerCase()] ??= i;
          });
          const missing = required.filter((c) => cols[c] === undefined);
          mapping = {
            columns: cols,
            ignored: [],
            errors: missing.length
              ? [{ column: missing.join(", "), reason: "missing required column(s)" }]
              : [],
          };
        }
        if (mapping.errors.length) {
          for (const e of mapping.errors) issues.push({ file, line: 1, column: e.column, reason: e.reason });
          parser.destroy();
          input.destroy();
          return;
        }
        columns = Object.entries(mapping.columns);
        stats.ignoredColumns = mapping.ignored;
        continue;
      }
      stats.rows++;
      if (record.length !== header.length) {
        const extra = record.length > header.length;
        issues.push({
          file,
          line: info.lines,
          column: null,
          reason:
            `${record.length} fields, but the header has ${header.length}: ` +
            (extra
              ? "an unquoted comma inside a value (such as a thousands separator in 1,234.50) splits it in two; quote the value or remove the comma"
              : "the row is cut short"),
        });
        continue;
      }
      if (record.every((v) => v === "")) {
        stats.blankRows++;
        continue;
      }
      const fields: Record<string, string> = {};
      for (const [name, i] of columns) fields[name] = record[i] ?? "";
      batch.push({ line: info.lines, fields });
    }
    if (batch.length) {
      // The consumer may have waited (paced writes): read what arrived meanwhile before waiting again.
      yield batch;
      continue;
    }
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
    if (ended) {
      if (!header) issues.push({ file, line: 1, column: null, reason: "the file is empty: no header row" });
      return;
    }
    await new Promise<void>((r) => {
      wake = r;
    });
    wake = undefined;
  }
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
  /** The `disputed` column: undefined when absent or empty (an earlier dispute is kept as it is). */
  disputed: boolean | undefined;
  /** The `pay_url` column: the invoice's pay-now link (http(s) only); null when absent or empty. */
  payUrl: string | null;
}

export const INVOICE_REQUIRED = ["customer_id", "invoice_number", "issue_date", "due_date", "total"] as const;
const INVOICE_STATUSES = new Set(["", "void", "open", "authorised", "paid"]);

/** How row values are read: the file's date format, and today's date (organisation timezone) for future checks. */
export interface RowOptions {
  dateFormat?: DateFormat;
  /** Today in the organisation's timezone: paid and payment dates after it are refused. */
  today?: string;
}

function readDate(
  text: string,
  column: string,
  opts: RowOptions,
  bad: (column: string, reason: string) => void,
): string {
  if (!text) return "";
  const r = parseDateAs(text, opts.dateFormat ?? "YYYY-MM-DD");
  if (!r.ok) {
    bad(column, r.reason);
    return "";
  }
  return r.date;
}

/** Validates one invoices.csv row. `defaultCurrency` is the organisation's (undefined for a new one). */
export function parseInvoiceRow(
  rec: CsvRecord,
  file: string,
  defaultCurrency: string | undefined,
  issues: CsvIssue[],
  opts: RowOptions = {},
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
  const issueDate = readDate(need("issue_date"), "issue_date", opts, bad);
  const dueDate = readDate(need("due_date"), "due_date", opts, bad);
  if (issueDate && dueDate && dueDate < issueDate)
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

  const disputedText = f.disputed ?? "";
  const disputed = parseDisputed(disputedText);
  if (!disputed.ok)
    bad("disputed", `"${disputedText}" is neither yes nor no (also accepted: true/false, 1/0, or empty)`);

  const payText = (f.pay_url ?? "").trim();
  const payUrl = payText ? safeHttpUrl(payText) : null;
  if (payText && !payUrl)
    bad("pay_url", `"${payText.slice(0, 80)}" is not a link starting with https:// or http://`);

  let totalMinor = 0;
  let totalOk = false;
  let amountPaidMinor: number | undefined;
  const totalText = need("total");
  if (currency && totalText) {
    const t = parseDecimalToMinor(totalText, currency);
    if (t === undefined) bad("total", `not an amount in ${currency}: "${totalText}"${amountHint(totalText)}`);
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
    if (p === undefined)
      bad("amount_paid", `not an amount in ${currency}: "${paidText}"${amountHint(paidText)}`);
    else if (p < 0) bad("amount_paid", `negative amount paid ${paidText}`);
    else if (totalOk && p > totalMinor)
      bad("amount_paid", `paid ${paidText} is more than the total ${totalText}`);
    else amountPaidMinor = p;
  }
  const paidText2 = f.paid_date ?? "";
  const paidDate = readDate(paidText2, "paid_date", opts, bad);
  if (paidDate) {
    if (issueDate && paidDate < issueDate)
      bad("paid_date", `paid date ${paidDate} is before issue date ${issueDate}`);
    else if (opts.today && paidDate > opts.today)
      bad("paid_date", `paid date ${paidDate} is after today (${opts.today}, organisation timezone)`);
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
    disputed: disputed.ok ? disputed.value : undefined,
    payUrl,
  };
}

export interface PaymentRow {
  line: number;
  invoiceNumber: string;
  date: string;
  amountText: string;
}

export const PAYMENT_REQUIRED = ["invoice_number", "payment_date", "amount"] as const;

export function parsePaymentRow(
  rec: CsvRecord,
  file: string,
  issues: CsvIssue[],
  opts: RowOptions = {},
): PaymentRow | undefined {
  const f = rec.fields;
  const before = issues.length;
  const bad = (column: string, reason: string) => issues.push({ file, line: rec.line, column, reason });
  const invoiceNumber = f.invoice_number ?? "";
  const dateText = f.payment_date ?? "";
  const amountText = f.amount ?? "";
  if (!invoiceNumber) bad("invoice_number", "required value is empty");
  let date = "";
  if (!dateText) bad("payment_date", "required value is empty");
  else {
    date = readDate(dateText, "payment_date", opts, bad);
    if (date && opts.today && date > opts.today)
      bad("payment_date", `payment date ${date} is after today (${opts.today}, organisation timezone)`);
  }
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
