/**
 * How a customer pays an invoice, pure: a pay-now link when the ledger has one, else the organisation's bank
 * details. In order:
 * 1. the provider's own payable invoice (Xero's online invoice, QuickBooks' `InvoiceLink`);
 * 2. a `pay_url` imported with the invoice (CSV);
 * 3. the organisation's pay-URL template, with `{{ invoice_number }}` and `{{ amount_due }}` filled in
 *    (URL-encoded; the amount as a plain decimal, `1234.50`);
 * 4. the organisation's bank details, as text.
 * Only absolute http(s) links are used: anything else (a `javascript:` URL, a relative path) is ignored.
 */
import { formatMinor } from "../model";

export type PayOption = { kind: "link"; url: string } | { kind: "bank"; details: string } | { kind: "none" };

export interface PayInput {
  providerUrl?: string | null;
  importedUrl?: string | null;
  template?: string | null;
  bankDetails?: string | null;
  invoiceNumber: string;
  amountDueMinor: number;
  currency: string;
}

const PLACEHOLDER = /\{\{\s*([a-z_]+)\s*\}\}/g;
const FIELDS = new Set(["invoice_number", "amount_due"]);

/** `url` when it is an absolute http(s) URL, else null. */
export function safeHttpUrl(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const u = new URL(url.trim());
    return u.protocol === "https:" || u.protocol === "http:" ? u.toString() : null;
  } catch {
    return null;
  }
}

/** Why a pay-URL template cannot be saved, or null when it can. */
export function checkPayUrlTemplate(template: string): string | null {
  for (const m of template.matchAll(PLACEHOLDER))
    if (!FIELDS.has(m[1]!))
      return `unknown field {{ ${m[1]} }}: use {{ invoice_number }} or {{ amount_due }}`;
  const sample = fillTemplate(template, "INV-0001", "100.00");
  if (/\{\{|\}\}/.test(sample)) return "a {{ … }} field is not closed";
  if (!safeHttpUrl(sample)) return "the link must start with https:// (or http://)";
  return null;
}

function fillTemplate(template: string, invoiceNumber: string, amountDue: string): string {
  return template.replace(PLACEHOLDER, (whole, name: string) =>
    name === "invoice_number"
      ? encodeURIComponent(invoiceNumber)
      : name === "amount_due"
        ? encodeURIComponent(amountDue)
        : whole,
  );
}

export function payOptionFor(input: PayInput): PayOption {
  const direct = safeHttpUrl(input.providerUrl) ?? safeHttpUrl(input.importedUrl);
  if (direct) return { kind: "link", url: direct };
  if (input.template && checkPayUrlTemplate(input.template) === null) {
    const url = safeHttpUrl(
      fillTemplate(input.template, input.invoiceNumber, formatMinor(input.amountDueMinor, input.currency)),
    );
    if (url) return { kind: "link", url };
  }
  const details = input.bankDetails?.trim();
  return details ? { kind: "bank", details } : { kind: "none" };
}
