/**
 * The IBM accounts-receivable ledger (../shared/data/ibm-ar, see its README) read for the monitor: the rows as
 * they are (`loadRaw`) and as monitor input (`toInput`). Shared by the evaluation (bench/monitor-eval.ts) and
 * the import test that checks the CSV import reads the same ledger (test/import/ibm-sample.test.ts).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseDecimalToMinor } from "../../src/model";
import type { MonitorAllocation, MonitorContact, MonitorInvoice, OrgInput } from "../../src/monitor/index";

export const DATA = fileURLToPath(
  new URL("../../../shared/data/ibm-ar/ledger-as-of-2013-06-30.csv", import.meta.url),
);
/** The date the ledger stands at: invoices settled after it are still open. */
export const IBM_AR_END = "2013-06-30";

export interface RawInvoice {
  customer: string;
  number: string;
  issueDate: string;
  dueDate: string;
  amountMinor: number;
  settledDate: string | null;
}

function mdyToIso(text: string): string {
  const [m, d, y] = text.split("/");
  if (!m || !d || !y) throw new Error(`bad date ${text}`);
  return `${y}-${m.padStart(2, "0")}-${d.padStart(2, "0")}`;
}

export function loadRaw(): RawInvoice[] {
  const lines = readFileSync(DATA, "utf8").trim().split(/\r?\n/);
  const header = (lines[0] ?? "").split(",");
  const col = (name: string): number => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`column ${name} missing`);
    return i;
  };
  const [cCust, cNum, cIssue, cDue, cAmt, cSettled] = [
    col("customerID"),
    col("invoiceNumber"),
    col("InvoiceDate"),
    col("DueDate"),
    col("InvoiceAmount"),
    col("SettledDate"),
  ];
  // The Disputed column is deliberately never read: it is known only after the fact.
  return lines.slice(1).map((line) => {
    const c = line.split(",");
    const amount = parseDecimalToMinor(c[cAmt] ?? "", "USD");
    if (amount === undefined) throw new Error(`bad amount in ${line}`);
    const settled = c[cSettled] ?? "";
    return {
      customer: c[cCust] ?? "",
      number: c[cNum] ?? "",
      issueDate: mdyToIso(c[cIssue] ?? ""),
      dueDate: mdyToIso(c[cDue] ?? ""),
      amountMinor: amount,
      settledDate: settled ? mdyToIso(settled) : null,
    };
  });
}

/** Monitor input for the raw ledger; a settled invoice gets one payment allocation on its settlement date. */
export function toInput(raw: readonly RawInvoice[]): OrgInput {
  const contacts = new Map<string, MonitorContact>();
  const invoices: MonitorInvoice[] = [];
  const allocations: MonitorAllocation[] = [];
  for (const r of raw) {
    if (!contacts.has(r.customer)) {
      contacts.set(r.customer, {
        id: `con_${r.customer}`,
        externalId: r.customer,
        name: r.customer,
        creditLimitMinor: null,
      });
    }
    const id = `inv_${r.number}`;
    const paid = r.settledDate !== null && r.settledDate <= IBM_AR_END;
    invoices.push({
      id,
      contactId: `con_${r.customer}`,
      number: r.number,
      issueDate: r.issueDate,
      dueDate: r.dueDate,
      currency: "USD",
      totalMinor: r.amountMinor,
      amountPaidMinor: paid ? r.amountMinor : 0,
      amountCreditedMinor: 0,
      amountDueMinor: paid ? 0 : r.amountMinor,
      status: paid ? "paid" : "authorised",
      paidOn: paid ? r.settledDate : null,
    });
    if (paid && r.settledDate) {
      allocations.push({ invoiceId: id, amountMinor: r.amountMinor, date: r.settledDate, kind: "payment" });
    }
  }
  return { baseCurrency: "USD", contacts: [...contacts.values()], invoices, allocations };
}
