/**
 * Guesses for a file exported by another system, shown to the user to confirm or correct before anything is
 * read (the browser's column mapper): which of the file's columns is each canonical invoices.csv column, and
 * how its dates are written. Pure: a header row and sample values in, suggestions and reasons out. A guess is
 * only a default in a form; the import itself uses exactly the mapping and date format the user submits.
 */
import { isIsoDate } from "../../src/model";
import { CANONICAL_COLUMNS, type DateFormat } from "./mapping";

/** Lower-case letters and digits only: "Invoice No." and "invoice_no" compare equal. */
const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, "");

/** Other systems' names for each invoices.csv column, most specific first. */
const SYNONYMS: Record<string, string[]> = {
  customer_id: [
    "customerid",
    "customercode",
    "customerno",
    "customernumber",
    "custid",
    "custno",
    "clientid",
    "clientcode",
    "clientno",
    "accountid",
    "accountcode",
    "accountno",
    "accountnumber",
    "debtorid",
    "debtorcode",
    "contactid",
  ],
  customer_name: [
    "customername",
    "clientname",
    "accountname",
    "debtorname",
    "contactname",
    "companyname",
    "customer",
    "client",
    "debtor",
    "company",
    "name",
  ],
  customer_email: ["customeremail", "clientemail", "contactemail", "emailaddress", "email", "billingemail"],
  invoice_number: [
    "invoicenumber",
    "invoiceno",
    "invoicenum",
    "invoiceid",
    "invno",
    "invoiceref",
    "invoicereference",
    "invoice",
    "documentnumber",
    "documentno",
    "docno",
    "reference",
    "ref",
  ],
  issue_date: [
    "issuedate",
    "invoicedate",
    "dateissued",
    "issued",
    "documentdate",
    "docdate",
    "txndate",
    "date",
  ],
  due_date: ["duedate", "datedue", "paymentdue", "dueon", "due"],
  currency: ["currency", "currencycode", "ccy"],
  total: [
    "total",
    "invoicetotal",
    "invoiceamount",
    "totalamount",
    "amount",
    "grossamount",
    "gross",
    "amountinctax",
    "totalinctax",
  ],
  amount_paid: ["amountpaid", "paidamount", "totalpaid", "paid"],
  paid_date: ["paiddate", "datepaid", "paidon", "settleddate", "settlementdate", "datesettled"],
  status: ["status", "invoicestatus"],
  disputed: ["disputed", "indispute", "dispute"],
  pay_url: ["payurl", "paymentlink", "paylink", "paymenturl", "onlineinvoiceurl", "invoiceurl"],
};

/**
 * The file column suggested for each canonical invoices.csv column (null: none found). Each file column is
 * suggested at most once: the canonical name itself first, then the synonyms in order.
 */
export function suggestInvoiceColumns(header: readonly string[]): Record<string, string | null> {
  const byNorm = new Map<string, string>();
  for (const h of header) if (h.trim() && !byNorm.has(norm(h))) byNorm.set(norm(h), h.trim());
  const used = new Set<string>();
  const out: Record<string, string | null> = {};
  // Exact canonical names first, so "total" in the file is never taken by another column's synonym.
  for (const c of CANONICAL_COLUMNS.invoices) {
    const h = byNorm.get(norm(c));
    if (h && !used.has(h)) {
      out[c] = h;
      used.add(h);
    }
  }
  for (const c of CANONICAL_COLUMNS.invoices) {
    if (out[c]) continue;
    out[c] = null;
    for (const s of SYNONYMS[c] ?? []) {
      const h = byNorm.get(s);
      if (h && !used.has(h)) {
        out[c] = h;
        used.add(h);
        break;
      }
    }
  }
  return out;
}

export interface DateFormatGuess {
  /** Null: the samples do not tell (every slash date could be either way round), or they disagree. */
  format: DateFormat | null;
  reason: string;
}

const SLASH = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/;

/** How dates are written, from sample values of the date columns (empty values are skipped). */
export function detectDateFormat(samples: readonly string[]): DateFormatGuess {
  const values = samples.map((s) => s.trim()).filter(Boolean);
  if (values.length === 0) return { format: null, reason: "no dates to look at in the first rows" };
  if (values.every(isIsoDate))
    return { format: "YYYY-MM-DD", reason: `${values.length} dates like ${values[0]}` };
  let dayFirst = "";
  let monthFirst = "";
  for (const v of values) {
    const m = SLASH.exec(v);
    if (!m) return { format: null, reason: `"${v}" is not written YYYY-MM-DD, DD/MM/YYYY or MM/DD/YYYY` };
    if (Number(m[1]) > 12) dayFirst ||= v;
    if (Number(m[2]) > 12) monthFirst ||= v;
  }
  if (dayFirst && monthFirst)
    return { format: null, reason: `"${dayFirst}" reads day first but "${monthFirst}" month first` };
  if (dayFirst) return { format: "DD/MM/YYYY", reason: `"${dayFirst}" can only be day/month/year` };
  if (monthFirst) return { format: "MM/DD/YYYY", reason: `"${monthFirst}" can only be month/day/year` };
  return {
    format: null,
    reason: `every date in the first rows (such as "${values[0]}") could be day/month or month/day: choose one`,
  };
}
