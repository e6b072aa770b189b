/**
 * Xero Accounting API records -> the canonical model. Pure: no network, no store, no clock.
 * A record that cannot be mapped comes back as `{ error }` with the reason, for quarantine.
 *
 * Dates: Xero writes `/Date(1518685950940+0000)/` (epoch ms, optional offset) or ISO text
 * (`2018-10-20T00:00:00`, no zone = UTC). Calendar fields (Date, DueDate, FullyPaidOnDate) are the
 * organisation's calendar date encoded as midnight UTC, so the date part is taken as is.
 */
import {
  type CanonicalAllocation,
  type CanonicalContact,
  type CanonicalCreditNote,
  type CanonicalInvoice,
  type CanonicalPayment,
  currencyExponent,
  type InvoiceStatus,
  isCurrencyCode,
} from "../../src/model";

export type Mapped<T> = { ok: T } | { error: string };

// biome-ignore lint/suspicious/noExplicitAny: Xero records are untyped JSON here; every field is checked.
type XeroRecord = Record<string, any>;

const MS_DATE_RE = /^\/Date\((-?\d+)([+-]\d{4})?\)\/$/;
const ISO_RE = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?(Z|[+-]\d{2}:?\d{2})?$/;

/** Epoch ms of a Xero timestamp, or undefined when it is not one. */
export function parseXeroInstant(value: unknown): number | undefined {
  if (typeof value !== "string" || !value) return undefined;
  const ms = MS_DATE_RE.exec(value);
  if (ms) return Number(ms[1]);
  const iso = ISO_RE.exec(value.trim());
  if (!iso) return undefined;
  const zone = iso[3] ?? "Z";
  const t = Date.parse(`${iso[1]}T${iso[2] ?? "00:00:00"}${zone}`);
  return Number.isNaN(t) ? undefined : t;
}

/** The calendar date (YYYY-MM-DD) of a Xero date field. */
export function parseXeroDate(value: unknown): string | undefined {
  if (typeof value !== "string" || !value) return undefined;
  const ms = MS_DATE_RE.exec(value);
  if (ms) {
    // The offset, when present, is the zone the midnight was written in; Xero writes +0000 for dates.
    const o = ms[2];
    const offset = o
      ? (o[0] === "-" ? -1 : 1) * (Number(o.slice(1, 3)) * 60 + Number(o.slice(3))) * 60_000
      : 0;
    return new Date(Number(ms[1]) + offset).toISOString().slice(0, 10);
  }
  const iso = ISO_RE.exec(value.trim());
  return iso ? iso[1] : undefined;
}

/** Minor units of an amount Xero sent as a JSON number or decimal text; undefined when it is not exact. */
export function toMinor(value: unknown, currency: string): number | undefined {
  if (value === null || value === undefined || value === "") return undefined;
  const n = typeof value === "number" ? value : Number(value);
  if (!Number.isFinite(n)) return undefined;
  const scaled = n * 10 ** currencyExponent(currency);
  const minor = Math.round(scaled);
  if (Math.abs(scaled - minor) > 1e-6 || !Number.isSafeInteger(minor)) return undefined;
  return minor;
}

const STATUSES: Record<string, InvoiceStatus> = {
  DRAFT: "draft",
  SUBMITTED: "submitted",
  AUTHORISED: "authorised",
  PAID: "paid",
  VOIDED: "void",
  DELETED: "deleted",
};

class MapError extends Error {}

function need<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null || value === "") throw new MapError(`missing ${what}`);
  return value;
}

function currencyOf(r: XeroRecord, what = "CurrencyCode"): string {
  const code = need<string>(r.CurrencyCode, what);
  if (typeof code !== "string" || !isCurrencyCode(code))
    throw new MapError(`unknown currency ${String(code)}`);
  return code;
}

function amount(r: XeroRecord, field: string, currency: string, fallback?: number): number {
  const v = r[field];
  if ((v === undefined || v === null) && fallback !== undefined) return fallback;
  const m = toMinor(need(v, field), currency);
  if (m === undefined) throw new MapError(`${field} ${String(v)} is not an amount in ${currency}`);
  return m;
}

function date(r: XeroRecord, field: string): string {
  const d = parseXeroDate(need<string>(r[field], field));
  if (!d) throw new MapError(`${field} ${String(r[field])} is not a date`);
  return d;
}

function status(r: XeroRecord, field = "Status"): InvoiceStatus {
  const s = STATUSES[String(need(r[field], field))];
  if (!s) throw new MapError(`unknown status ${String(r[field])}`);
  return s;
}

function guard<T>(fn: () => T): Mapped<T> {
  try {
    return { ok: fn() };
  } catch (err) {
    if (err instanceof MapError) return { error: err.message };
    throw err;
  }
}

/** Where reminders go: the contact's email, then its contact persons marked IncludeInEmails. */
export function contactEmails(c: XeroRecord): string[] {
  const out: string[] = [];
  const add = (e: unknown) => {
    if (typeof e !== "string") return;
    const t = e.trim();
    if (t?.includes("@") && !out.some((o) => o.toLowerCase() === t.toLowerCase())) out.push(t);
  };
  add(c.EmailAddress);
  for (const p of (c.ContactPersons as XeroRecord[] | undefined) ?? [])
    if (p?.IncludeInEmails === true) add(p.EmailAddress);
  return out;
}

function contactPhone(c: XeroRecord): string | null {
  const phones = (c.Phones as XeroRecord[] | undefined) ?? [];
  const pick =
    phones.find((p) => p.PhoneType === "DEFAULT" && p.PhoneNumber) ?? phones.find((p) => p.PhoneNumber);
  if (!pick) return null;
  return [pick.PhoneCountryCode, pick.PhoneAreaCode, pick.PhoneNumber].filter(Boolean).join(" ");
}

/**
 * The contact's receivable balances as Xero reports them (Balances.AccountsReceivable: raw amounts, not
 * converted to the base currency), for reconciliation; undefined when the record carries none.
 */
function receivableBalance(c: XeroRecord): CanonicalContact["providerBalance"] | undefined {
  const ar = c.Balances?.AccountsReceivable as XeroRecord | undefined;
  if (!ar || ar.Outstanding === undefined || ar.Outstanding === null) return undefined;
  const currency =
    typeof c.DefaultCurrency === "string" && isCurrencyCode(c.DefaultCurrency) ? c.DefaultCurrency : null;
  const asMinor = (v: unknown) => toMinor(v, currency ?? "USD");
  const outstanding = asMinor(ar.Outstanding);
  if (outstanding === undefined) return undefined;
  return { outstandingMinor: outstanding, overdueMinor: asMinor(ar.Overdue) ?? null, currency };
}

export function mapContact(c: XeroRecord): Mapped<CanonicalContact> {
  return guard(() => {
    const balance = receivableBalance(c);
    return {
      externalId: need<string>(c.ContactID, "ContactID"),
      name: String(need(c.Name, "Name")).trim() || "(no name)",
      emails: contactEmails(c),
      phone: contactPhone(c),
      // Archived contacts stay in the store (their invoices still count); GDPR-erased ones are gone.
      deleted: c.ContactStatus === "GDPRREQUEST",
      providerUpdatedAt: parseXeroInstant(c.UpdatedDateUTC) ?? null,
      ...(typeof c.IsCustomer === "boolean" ? { isCustomer: c.IsCustomer } : {}),
      ...(typeof c.IsSupplier === "boolean" ? { isSupplier: c.IsSupplier } : {}),
      ...(balance ? { providerBalance: balance } : {}),
    };
  });
}

export function mapInvoice(i: XeroRecord): Mapped<CanonicalInvoice> {
  return guard(() => {
    const externalId = need<string>(i.InvoiceID, "InvoiceID");
    const st = status(i);
    const currency = currencyOf(i);
    const issueDate = date(i, "Date");
    // Drafts and voided/deleted invoices may carry no due date; they are never chased.
    const dueDate =
      i.DueDate || !["draft", "submitted", "void", "deleted"].includes(st) ? date(i, "DueDate") : issueDate;
    const total = amount(i, "Total", currency);
    const paid = amount(i, "AmountPaid", currency, 0);
    const credited = amount(i, "AmountCredited", currency, 0);
    return {
      externalId,
      contactExternalId: need<string>(i.Contact?.ContactID, "Contact.ContactID"),
      number: String(i.InvoiceNumber || "").trim() || `(no number) ${externalId.slice(0, 8)}`,
      issueDate,
      dueDate,
      currency,
      totalMinor: total,
      amountPaidMinor: paid,
      amountCreditedMinor: credited,
      amountDueMinor: amount(i, "AmountDue", currency, total - paid - credited),
      status: st,
      paidOn: i.FullyPaidOnDate ? (parseXeroDate(i.FullyPaidOnDate) ?? null) : null,
      payUrl: null,
      providerUpdatedAt: parseXeroInstant(i.UpdatedDateUTC) ?? null,
    };
  });
}

/** A Xero payment pays one invoice: one allocation. Only receivable payments (ACCRECPAYMENT) are mapped. */
export function mapPayment(p: XeroRecord): Mapped<CanonicalPayment> {
  return guard(() => {
    const externalId = need<string>(p.PaymentID, "PaymentID");
    const invoice = need<XeroRecord>(p.Invoice, "Invoice");
    const currency = currencyOf(invoice, "Invoice.CurrencyCode");
    const paidOn = date(p, "Date");
    const amt = amount(p, "Amount", currency);
    return {
      externalId,
      contactExternalId: invoice.Contact?.ContactID ?? null,
      date: paidOn,
      currency,
      amountMinor: amt,
      deleted: p.Status === "DELETED",
      allocations: [
        {
          invoiceExternalId: need<string>(invoice.InvoiceID, "Invoice.InvoiceID"),
          amountMinor: amt,
          date: paidOn,
        },
      ],
      providerUpdatedAt: parseXeroInstant(p.UpdatedDateUTC) ?? null,
    };
  });
}

function allocations(r: XeroRecord, currency: string): CanonicalAllocation[] {
  return ((r.Allocations as XeroRecord[] | undefined) ?? [])
    .filter((a) => a?.Invoice?.InvoiceID && !a.IsDeleted)
    .map((a) => ({
      invoiceExternalId: String(a.Invoice.InvoiceID),
      amountMinor: amount(a, "Amount", currency),
      date: date(a, "Date"),
    }));
}

export type CreditKind = "CreditNotes" | "Overpayments" | "Prepayments";

const CREDIT_ID: Record<CreditKind, string> = {
  CreditNotes: "CreditNoteID",
  Overpayments: "OverpaymentID",
  Prepayments: "PrepaymentID",
};

/**
 * Credit notes, overpayments and prepayments all reduce what a customer owes once allocated, and leave
 * unallocated credit otherwise: all three become canonical credit notes (overpayments and prepayments are
 * numbered "Overpayment" / "Prepayment" plus their reference).
 */
export function mapCredit(kind: CreditKind, r: XeroRecord): Mapped<CanonicalCreditNote> {
  return guard(() => {
    const externalId = need<string>(r[CREDIT_ID[kind]], CREDIT_ID[kind]);
    const currency = currencyOf(r);
    const total = amount(r, "Total", currency);
    const number =
      kind === "CreditNotes"
        ? String(r.CreditNoteNumber || "").trim() || null
        : `${kind === "Overpayments" ? "Overpayment" : "Prepayment"}${r.Reference ? ` ${String(r.Reference).trim()}` : ""}`;
    return {
      externalId,
      contactExternalId: need<string>(r.Contact?.ContactID, "Contact.ContactID"),
      number,
      issueDate: date(r, "Date"),
      currency,
      totalMinor: total,
      remainingMinor: amount(r, "RemainingCredit", currency, 0),
      status: status(r),
      allocations: allocations(r, currency),
      providerUpdatedAt: parseXeroInstant(r.UpdatedDateUTC) ?? null,
    };
  });
}

/** The organisation's settings Creditpulse keeps (from GET /Organisation). */
export interface XeroOrganisation {
  name: string;
  baseCurrency: string;
  timezone: string;
  countryCode: string | null;
  isDemo: boolean;
}
