/**
 * QuickBooks Online entities -> the canonical model. Pure: no I/O, no clock.
 *
 * Money: QBO sends JSON numbers (362.07). A JS number prints as the shortest decimal that reads back as the
 * same double, which is exactly the decimal QBO wrote, so String(n) then parseDecimalToMinor converts without
 * float error; anything that does not fit the currency's minor unit is quarantined, never rounded.
 * A record that cannot be mapped is quarantined with its reason; the rest of the page goes on.
 */
import type {
  CanonicalAllocation,
  CanonicalContact,
  CanonicalCreditNote,
  CanonicalInvoice,
  CanonicalPayment,
  InvoiceStatus,
} from "../../src/model";
import {
  canonicalContact,
  canonicalCreditNote,
  canonicalInvoice,
  canonicalPayment,
  isCurrencyCode,
  isIsoDate,
  isTimeZone,
  parseDecimalToMinor,
} from "../../src/model";
import type { Entity, ProviderOrganisation, Quarantined } from "../connector";

export interface QboRef {
  value?: string;
  name?: string;
}
export interface QboMeta {
  CreateTime?: string;
  LastUpdatedTime?: string;
}
interface QboBase {
  Id?: string;
  SyncToken?: string;
  status?: string;
  domain?: string;
  MetaData?: QboMeta;
  CurrencyRef?: QboRef;
}
export interface QboCustomer extends QboBase {
  /** Open balance (receivables less unapplied credit), in the customer's currency. */
  Balance?: number | string;
  DisplayName?: string;
  CompanyName?: string;
  FullyQualifiedName?: string;
  Active?: boolean;
  PrimaryEmailAddr?: { Address?: string };
  PrimaryPhone?: { FreeFormNumber?: string };
  Notes?: string;
  CustomerTypeRef?: QboRef;
}
export interface QboLinkedTxn {
  TxnId?: string;
  TxnType?: string;
}
export interface QboLine {
  Amount?: number | string;
  LinkedTxn?: QboLinkedTxn[];
}
export interface QboInvoice extends QboBase {
  DocNumber?: string;
  TxnDate?: string;
  DueDate?: string;
  TotalAmt?: number | string;
  Balance?: number | string;
  CustomerRef?: QboRef;
  BillEmail?: { Address?: string };
  InvoiceLink?: string;
  PrivateNote?: string;
  LinkedTxn?: QboLinkedTxn[];
}
export interface QboPayment extends QboBase {
  TxnDate?: string;
  TotalAmt?: number | string;
  UnappliedAmt?: number | string;
  CustomerRef?: QboRef;
  Line?: QboLine[];
}
export interface QboCreditMemo extends QboBase {
  DocNumber?: string;
  TxnDate?: string;
  TotalAmt?: number | string;
  Balance?: number | string;
  RemainingCredit?: number | string;
  CustomerRef?: QboRef;
  PrivateNote?: string;
}

/** What one provider record became. */
export type Mapped<T> =
  | { kind: "ok"; record: T }
  /** A `status: "Deleted"` stub: only the id survives in QBO; sync marks the stored record deleted. */
  | { kind: "deleted"; externalId: string; updatedAt: number | null }
  | { kind: "bad"; quarantined: Quarantined };

class MapError extends Error {}

/** A QBO decimal (JSON number or string) in minor units of `currency`, exactly. */
export function qboMoney(value: unknown, currency: string, field: string): number {
  let text: string;
  if (typeof value === "number" && Number.isFinite(value)) {
    text = String(value);
    if (/e/i.test(text)) text = value.toFixed(20);
  } else if (typeof value === "string") text = value;
  else throw new MapError(`${field} is missing or not a number`);
  const minor = parseDecimalToMinor(text, currency);
  if (minor === undefined) throw new MapError(`${field} ${text} is not an amount in ${currency}`);
  return minor;
}

function optionalMoney(value: unknown, currency: string, field: string): number | undefined {
  return value === undefined || value === null ? undefined : qboMoney(value, currency, field);
}

function date(value: unknown, field: string): string {
  if (typeof value !== "string" || !isIsoDate(value))
    throw new MapError(`${field} ${String(value)} is not a date`);
  return value;
}

function currencyOf(r: QboBase): string {
  const c = r.CurrencyRef?.value;
  if (!c || !/^[A-Z]{3}$/.test(c)) throw new MapError(`CurrencyRef ${String(c)} is not a currency code`);
  return c;
}

function idOf(r: QboBase): string {
  if (!r.Id) throw new MapError("the record has no Id");
  return String(r.Id);
}

/** MetaData.LastUpdatedTime as epoch ms. */
export function updatedAt(r: QboBase): number | null {
  const t = r.MetaData?.LastUpdatedTime ? Date.parse(r.MetaData.LastUpdatedTime) : Number.NaN;
  return Number.isNaN(t) ? null : t;
}

/** QBO allows several addresses in one field, comma-separated. */
function emails(...fields: (string | undefined)[]): string[] {
  const out: string[] = [];
  for (const f of fields)
    for (const e of (f ?? "").split(/[,;]/)) {
      const t = e.trim();
      if (t && !out.some((o) => o.toLowerCase() === t.toLowerCase())) out.push(t);
    }
  return out;
}

const isDeletedStub = (r: QboBase) => r.status === "Deleted";

function guard<T>(
  entity: Entity,
  raw: QboBase,
  fn: () => T,
  schema: {
    safeParse(v: unknown): {
      success: boolean;
      error?: { issues: { path: PropertyKey[]; message: string }[] };
    };
  },
): Mapped<T> {
  const externalId = raw?.Id ? String(raw.Id) : "(no id)";
  try {
    if (isDeletedStub(raw)) return { kind: "deleted", externalId: idOf(raw), updatedAt: updatedAt(raw) };
    const record = fn();
    const parsed = schema.safeParse(record);
    if (!parsed.success) {
      const issue = parsed.error?.issues[0];
      throw new MapError(`${issue?.path.join(".") ?? "record"}: ${issue?.message ?? "invalid"}`);
    }
    return { kind: "ok", record };
  } catch (err) {
    if (!(err instanceof MapError)) throw err;
    return { kind: "bad", quarantined: { entity, externalId, reason: err.message, payload: raw } };
  }
}

/** A customer's currency (CurrencyRef; single-currency companies send it too, else the home currency is unknown). */
function customerCurrency(raw: QboCustomer): string {
  const c = raw.CurrencyRef?.value;
  if (!c || !/^[A-Z]{3}$/.test(c)) throw new MapError(`CurrencyRef ${String(c)} is not a currency code`);
  return c;
}

export function mapCustomer(raw: QboCustomer): Mapped<CanonicalContact> {
  return guard(
    "contacts",
    raw,
    () => {
      const name = (raw.DisplayName ?? raw.CompanyName ?? raw.FullyQualifiedName ?? "").trim();
      if (!name) throw new MapError("the customer has no DisplayName");
      return {
        externalId: idOf(raw),
        name,
        emails: emails(raw.PrimaryEmailAddr?.Address),
        phone: raw.PrimaryPhone?.FreeFormNumber ?? null,
        // QBO "deletes" a customer by making it inactive.
        deleted: raw.Active === false,
        providerUpdatedAt: updatedAt(raw),
        isCustomer: true,
        ...(raw.Balance !== undefined && raw.Balance !== null && raw.CurrencyRef?.value
          ? {
              providerBalance: {
                outstandingMinor: qboMoney(raw.Balance, customerCurrency(raw), "Balance"),
                overdueMinor: null,
                currency: customerCurrency(raw),
              },
            }
          : {}),
      };
    },
    canonicalContact,
  );
}

function invoiceStatus(raw: QboInvoice, totalMinor: number, dueMinor: number): InvoiceStatus {
  if (raw.status === "Voided" || (totalMinor === 0 && /^voided/i.test(raw.PrivateNote ?? ""))) return "void";
  if (dueMinor === 0 && totalMinor !== 0) return "paid";
  return "authorised";
}

export function mapInvoice(raw: QboInvoice): Mapped<CanonicalInvoice> {
  return guard(
    "invoices",
    raw,
    () => {
      const currency = currencyOf(raw);
      const customer = raw.CustomerRef?.value;
      if (!customer) throw new MapError("the invoice has no CustomerRef");
      const totalMinor = qboMoney(raw.TotalAmt, currency, "TotalAmt");
      const dueMinor = qboMoney(raw.Balance ?? 0, currency, "Balance");
      const issueDate = date(raw.TxnDate, "TxnDate");
      const payUrl = raw.InvoiceLink && /^https:\/\//.test(raw.InvoiceLink) ? raw.InvoiceLink : null;
      return {
        externalId: idOf(raw),
        contactExternalId: String(customer),
        number: raw.DocNumber?.trim() || idOf(raw),
        issueDate,
        dueDate: raw.DueDate ? date(raw.DueDate, "DueDate") : issueDate,
        currency,
        totalMinor,
        // QBO keeps only the open Balance: what was settled (by payments or applied credit) is the difference.
        amountPaidMinor: totalMinor - dueMinor,
        amountCreditedMinor: 0,
        amountDueMinor: dueMinor,
        status: invoiceStatus(raw, totalMinor, dueMinor),
        paidOn: null,
        payUrl,
        providerUpdatedAt: updatedAt(raw),
      };
    },
    canonicalInvoice,
  );
}

/**
 * Payment lines link to invoices (money received against them) and to credit memos (credit applied in the
 * same payment: how QuickBooks records "credit applied"). The credit-memo lines are spread over the invoice
 * lines in order and become credit-note allocations (`creditApplications`) of those memos to those invoices;
 * the payment's own allocations carry only the cash. Lines naming the same invoice are merged.
 */
export function mapPayment(raw: QboPayment): Mapped<CanonicalPayment> {
  return guard(
    "payments",
    raw,
    () => {
      const currency = currencyOf(raw);
      const day = date(raw.TxnDate, "TxnDate");
      const byInvoice = new Map<string, number>();
      const byMemo = new Map<string, number>();
      for (const line of raw.Line ?? []) {
        const links = line.LinkedTxn ?? [];
        if (links.length === 0) continue;
        const amount = qboMoney(line.Amount, currency, "Line.Amount");
        const inv = links.find((l) => l.TxnType === "Invoice" && l.TxnId);
        const memo = links.find((l) => l.TxnType === "CreditMemo" && l.TxnId);
        if (inv) byInvoice.set(String(inv.TxnId), (byInvoice.get(String(inv.TxnId)) ?? 0) + amount);
        else if (memo) byMemo.set(String(memo.TxnId), (byMemo.get(String(memo.TxnId)) ?? 0) + amount);
      }
      const memos = [...byMemo].map(([id, amount]) => ({ id, left: amount }));
      const allocations: CanonicalAllocation[] = [];
      const creditApplications: NonNullable<CanonicalPayment["creditApplications"]> = [];
      for (const [invoiceExternalId, amount] of byInvoice) {
        let owed = amount;
        for (const m of memos) {
          if (owed <= 0) break;
          const taken = Math.min(m.left, owed);
          if (taken <= 0) continue;
          m.left -= taken;
          owed -= taken;
          creditApplications.push({
            creditNoteExternalId: m.id,
            invoiceExternalId,
            amountMinor: taken,
            date: day,
          });
        }
        if (owed > 0) allocations.push({ invoiceExternalId, amountMinor: owed, date: day });
      }
      return {
        externalId: idOf(raw),
        contactExternalId: raw.CustomerRef?.value ? String(raw.CustomerRef.value) : null,
        date: day,
        currency,
        amountMinor: qboMoney(raw.TotalAmt, currency, "TotalAmt"),
        deleted: false,
        allocations,
        creditApplications,
        providerUpdatedAt: updatedAt(raw),
      };
    },
    canonicalPayment,
  );
}

export function mapCreditMemo(raw: QboCreditMemo): Mapped<CanonicalCreditNote> {
  return guard(
    "credit_notes",
    raw,
    () => {
      const currency = currencyOf(raw);
      const customer = raw.CustomerRef?.value;
      if (!customer) throw new MapError("the credit memo has no CustomerRef");
      const totalMinor = qboMoney(raw.TotalAmt, currency, "TotalAmt");
      const remainingMinor =
        optionalMoney(raw.RemainingCredit, currency, "RemainingCredit") ??
        optionalMoney(raw.Balance, currency, "Balance") ??
        totalMinor;
      const voided = raw.status === "Voided" || (totalMinor === 0 && /^voided/i.test(raw.PrivateNote ?? ""));
      return {
        externalId: idOf(raw),
        contactExternalId: String(customer),
        number: raw.DocNumber ?? null,
        issueDate: date(raw.TxnDate, "TxnDate"),
        currency,
        totalMinor,
        remainingMinor,
        status: voided ? "void" : remainingMinor === 0 && totalMinor !== 0 ? "paid" : "authorised",
        // QBO records where a credit memo went on the Payment that applied it, not on the memo.
        allocations: [],
        providerUpdatedAt: updatedAt(raw),
      };
    },
    canonicalCreditNote,
  );
}

/** A company's timezone when CompanyInfo names none: the main one of its country. */
const COUNTRY_TZ: Record<string, string> = {
  US: "America/New_York",
  CA: "America/Toronto",
  GB: "Europe/London",
  UK: "Europe/London",
  IE: "Europe/Dublin",
  AU: "Australia/Sydney",
  NZ: "Pacific/Auckland",
  IN: "Asia/Kolkata",
  FR: "Europe/Paris",
  ZA: "Africa/Johannesburg",
};

/** The organisation of a company from its CompanyInfo and Preferences (home currency, default USD). */
export function mapCompany(
  info: Record<string, unknown>,
  prefs: { CurrencyPrefs?: { HomeCurrency?: { value?: string } } },
  realmId: string,
): ProviderOrganisation {
  const name = String(info.CompanyName ?? info.LegalName ?? `QuickBooks company ${realmId}`);
  const country = String(
    info.Country ?? (info.CompanyAddr as { Country?: string } | undefined)?.Country ?? "",
  )
    .toUpperCase()
    .slice(0, 2);
  const home = prefs.CurrencyPrefs?.HomeCurrency?.value;
  const tzField = typeof info.DefaultTimeZone === "string" ? info.DefaultTimeZone : undefined;
  return {
    name,
    baseCurrency: home && isCurrencyCode(home) ? home : "USD",
    timezone: tzField && isTimeZone(tzField) ? tzField : (COUNTRY_TZ[country] ?? "UTC"),
    countryCode: country || null,
  };
}
