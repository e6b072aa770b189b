/**
 * From CSV rows to canonical records: customers.csv read whole (it is small), payments.csv reduced to totals
 * per invoice on a first read, each invoices.csv row checked against its payments and turned into the invoice
 * and the payments it implies, and each customer's final contact from both files (customers.csv wins).
 */
import { basename } from "node:path";
import { amountHint } from "../../connectors/csv/mapping";
import {
  CUSTOMER_REQUIRED,
  type CustomerRow,
  type InvoiceRow,
  PAYMENT_REQUIRED,
  parseCustomerRow,
  parsePaymentRow,
  type RowOptions,
  readCsvBatches,
} from "../../connectors/csv/parse";
import { type CanonicalContact, type CanonicalPayment, parseDecimalToMinor } from "../model";
import type { ChunkItem, CsvImportOptions, ExpectedPayment, IssueList } from "./csv-types";

/** Payments of one invoice as read from payments.csv, before the invoice is known. */
interface PaymentTotals {
  /** Amount texts are kept until the invoice's currency is known. */
  amounts: string[];
  lines: number[];
  dates: string[];
}

/** customers.csv by customer_id; a repeated customer_id is an issue (the first row is kept). */
export async function readCustomersFile(path: string, issues: IssueList): Promise<Map<string, CustomerRow>> {
  const customersFile = new Map<string, CustomerRow>();
  const file = basename(path);
  for await (const batch of readCsvBatches(path, CUSTOMER_REQUIRED, issues.pending, {
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
  return customersFile;
}

/** payments.csv's first read: amount texts, lines and dates per invoice number. */
export async function readPaymentTotals(
  path: string,
  issues: IssueList,
  rowOpts: RowOptions,
  progress: (rows: number) => void,
): Promise<Map<string, PaymentTotals>> {
  const payFile = basename(path);
  const paymentsByInvoice = new Map<string, PaymentTotals>();
  for await (const batch of readCsvBatches(path, PAYMENT_REQUIRED, issues.pending, {
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
    progress(batch.length);
  }
  issues.drain();
  return paymentsByInvoice;
}

/** What turning invoice rows into items needs: where payments come from, and where issues go. */
export interface InvoiceItemContext {
  issues: IssueList;
  /** payments.csv given: it alone says what was paid (else the row's amount_paid / paid_date). */
  paymentsByInvoice: Map<string, PaymentTotals> | null;
  payFile: string;
  /** Invoices whose payments come from payments.csv: number -> currency, issue date, customer. */
  paidInvoices: Map<string, { currency: string; issueDate: string; customerId: string }>;
}

/**
 * The invoice a valid invoices.csv row stands for, with the payments it implies. Payments from payments.csv are
 * checked here (amount in the invoice's currency, positive, not before the invoice, not more than its total);
 * without payments.csv a paid row implies one `#paid` payment, pushed to `synthesized`.
 */
export function invoiceItem(
  row: InvoiceRow,
  ctx: InvoiceItemContext,
  synthesized: CanonicalPayment[],
): ChunkItem {
  const { issues, paymentsByInvoice, payFile } = ctx;
  let paid: number;
  let paidOn: string | null;
  const expected: ExpectedPayment[] = [];
  if (paymentsByInvoice) {
    const t = paymentsByInvoice.get(row.number);
    paid = 0;
    paidOn = null;
    if (t) {
      ctx.paidInvoices.set(row.number, {
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
          bad("amount", `not an amount in ${row.currency}: "${t.amounts[k]}"${amountHint(t.amounts[k]!)}`);
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
  return {
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
      payUrl: row.payUrl,
    },
  };
}

/** The payments an item's rows imply, as canonical payments (a re-import writes them with their invoice). */
export function itemPayments(p: ChunkItem): CanonicalPayment[] {
  return p.expectedPayments.map((e) => ({
    externalId: e.externalId,
    contactExternalId: p.inv.contactExternalId,
    date: e.date,
    currency: p.inv.currency,
    amountMinor: e.amountMinor,
    allocations: [{ invoiceExternalId: p.inv.externalId, amountMinor: e.amountMinor, date: e.date }],
  }));
}

function formatTotal(row: { totalMinor: number; currency: string }) {
  return `${row.totalMinor} minor units of ${row.currency}`;
}

/**
 * The canonical contact from both files (customers.csv wins); a customer with no name anywhere is named by its
 * customer_id. Undefined contact, with an issue, when a value is bad.
 */
export function contactFor(
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

export function titleFromSlug(slug: string): string {
  return slug
    .split("-")
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join(" ");
}
