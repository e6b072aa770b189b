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
import type { PaymentSettings } from "../model/reminders";

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
/** Anything written as a field, known or not (so a mistyped or foreign field is named, not left in the link). */
const ANY_FIELD = /\{\{\s*([^{}]*?)\s*\}\}/g;
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
  for (const m of template.matchAll(ANY_FIELD))
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

/** An invoice as far as paying it goes. */
export interface PayableInvoice {
  id: string;
  number: string;
  /** The ledger's link that came with the invoice (QuickBooks' InvoiceLink, a CSV `pay_url`). */
  payUrl: string | null;
  amountDueMinor: number;
  currency: string;
}

/** How the listed invoices are paid: a link per invoice that has one, and bank details for the others. */
export interface PayView {
  /** Invoice id -> its http(s) pay-now link. */
  links: Map<string, string>;
  /** The organisation's bank details, when some listed invoice has no link (else null). */
  bankDetails: string | null;
}

/**
 * One answer for reminders, the customers' page and the PDF statement: each invoice's link by payOptionFor (the
 * provider's online invoice from `online`, the invoice's own pay_url, the organisation's template), and the
 * bank details when an invoice is left without one.
 */
export function payView(
  invoices: readonly PayableInvoice[],
  settings: PaymentSettings,
  online: ReadonlyMap<string, string> = new Map(),
): PayView {
  const links = new Map<string, string>();
  let unlinked = false;
  for (const i of invoices) {
    const option = payOptionFor({
      providerUrl: online.get(i.id),
      importedUrl: i.payUrl,
      template: settings.payUrlTemplate,
      invoiceNumber: i.number,
      amountDueMinor: i.amountDueMinor,
      currency: i.currency,
    });
    if (option.kind === "link") links.set(i.id, option.url);
    else unlinked = true;
  }
  const details = settings.bankDetails?.trim();
  return { links, bankDetails: unlinked && details ? details : null };
}
