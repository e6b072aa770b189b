/**
 * The canonical model: what every connector maps provider data into, and what the store, the monitor and
 * the reminder engine speak. Provider shapes never get past a connector.
 *
 * Money is integer minor units with its currency. Calendar dates are ISO `YYYY-MM-DD` in the organisation's
 * timezone. Instants are epoch milliseconds.
 */
import { z } from "zod";

export const PROVIDERS = ["xero", "quickbooks", "csv"] as const;
export type Provider = (typeof PROVIDERS)[number];

export const INVOICE_STATUSES = ["draft", "submitted", "authorised", "paid", "void", "deleted"] as const;
export type InvoiceStatus = (typeof INVOICE_STATUSES)[number];

export const HOLD_STATES = ["none", "on_hold"] as const;
export type HoldState = (typeof HOLD_STATES)[number];

const ISO_DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True when `value` is a real calendar date written `YYYY-MM-DD`. */
export function isIsoDate(value: string): boolean {
  if (value.length !== 10 || !ISO_DATE_RE.test(value)) return false;
  const y = Number(value.slice(0, 4));
  const mo = Number(value.slice(5, 7));
  const d = Number(value.slice(8, 10));
  if (mo < 1 || mo > 12 || d < 1) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const days = mo === 2 ? (leap ? 29 : 28) : mo === 4 || mo === 6 || mo === 9 || mo === 11 ? 30 : 31;
  return d <= days;
}

export const isoDate = z.string().refine(isIsoDate, { message: "expected a date written YYYY-MM-DD" });
export type IsoDate = string;

let currencyCodes: Set<string> | undefined;
/** ISO 4217 codes this runtime's Intl knows. */
export function isCurrencyCode(code: string): boolean {
  currencyCodes ??= new Set(Intl.supportedValuesOf("currency"));
  return currencyCodes.has(code);
}

export const currencyCode = z
  .string()
  .regex(/^[A-Z]{3}$/, "expected a three-letter ISO 4217 currency code")
  .refine(isCurrencyCode, { message: "unknown ISO 4217 currency code" });

export const money = z.object({ minor: z.number().int(), currency: currencyCode });
export type Money = z.infer<typeof money>;

const exponentCache = new Map<string, number>();
/** Number of minor-unit digits of a currency (2 for GBP, 0 for JPY, 3 for KWD). */
export function currencyExponent(currency: string): number {
  let e = exponentCache.get(currency);
  if (e === undefined) {
    e =
      new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ??
      2;
    exponentCache.set(currency, e);
  }
  return e;
}

const DECIMAL_RE = /^([+-])?(\d+)(?:\.(\d+))?$/;

/**
 * Parses a decimal amount ("1234.5", "-3", "1,234.56" is refused) into minor units of `currency` without
 * floating-point error. Returns undefined when the text is not a plain decimal or has more digits after the
 * point than the currency allows (other than trailing zeros).
 */
export function parseDecimalToMinor(text: string, currency: string): number | undefined {
  const m = DECIMAL_RE.exec(text.trim());
  if (!m) return undefined;
  const exp = currencyExponent(currency);
  let frac = (m[3] ?? "").replace(/0+$/, "");
  if (frac.length > exp) return undefined;
  frac = frac.padEnd(exp, "0");
  const minor = Number(m[2]) * 10 ** exp + (frac ? Number(frac) : 0);
  if (!Number.isSafeInteger(minor)) return undefined;
  return m[1] === "-" ? -minor : minor;
}

const GROUPED_RE = /^(\d{1,3}(?:,\d{3})+)(\.\d+)?$/;

/**
 * An amount as a person types it into a form: a plain decimal ("10000.50") or one with thousands separators
 * in their places ("10,000", "1,234.5"), spaces around it ignored, in `currency`'s decimals. Undefined for
 * anything else ("ten", "1,00", "10.001" in GBP, a negative amount).
 */
export function parseTypedAmount(text: string, currency: string): number | undefined {
  const t = text.trim().replace(/\s+/g, "");
  const g = GROUPED_RE.exec(t);
  const plain = g ? `${g[1]!.replace(/,/g, "")}${g[2] ?? ""}` : t;
  if (plain.startsWith("-") || plain.startsWith("+")) return undefined;
  return parseDecimalToMinor(plain, currency);
}

/** Minor units back to a plain decimal string ("1234.50"). */
export function formatMinor(minor: number, currency: string): string {
  const exp = currencyExponent(currency);
  const sign = minor < 0 ? "-" : "";
  const abs = Math.abs(minor);
  if (exp === 0) return `${sign}${abs}`;
  const s = String(abs).padStart(exp + 1, "0");
  return `${sign}${s.slice(0, -exp)}.${s.slice(-exp)}`;
}

/** Whole days from `a` to `b` (both ISO dates): positive when b is later. */
export function daysBetween(a: IsoDate, b: IsoDate): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);
}

/** Adds whole days to an ISO date. */
export function addDays(date: IsoDate, days: number): IsoDate {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/** The calendar date of an instant in a timezone. */
export function dateInZone(epochMs: number, timeZone: string): IsoDate {
  return new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).format(new Date(epochMs));
}

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const timeZone = z.string().refine(isTimeZone, { message: "unknown IANA timezone" });

// --- canonical records as connectors deliver them (ids are the provider's) ---

export const canonicalContact = z.object({
  externalId: z.string().min(1),
  name: z.string().min(1),
  emails: z.array(z.string()),
  phone: z.string().nullable().optional(),
  creditLimitMinor: z.number().int().nonnegative().nullable().optional(),
  timezone: timeZone.nullable().optional(),
  deleted: z.boolean().optional(),
  providerUpdatedAt: z.number().int().nullable().optional(),
  /** Roles the ledger gives the contact (undefined = not said: treated as a customer). */
  isCustomer: z.boolean().optional(),
  isSupplier: z.boolean().optional(),
  /**
   * The ledger's own figures for what the contact owes (reconciliation): outstanding and, when the ledger
   * says, overdue receivables, in minor units of `currency`.
   */
  providerBalance: z
    .object({
      outstandingMinor: z.number().int(),
      overdueMinor: z.number().int().nullable(),
      /** null = the organisation's base currency. */
      currency: currencyCode.nullable(),
    })
    .nullable()
    .optional(),
});
export type CanonicalContact = z.infer<typeof canonicalContact>;

export const canonicalInvoice = z.object({
  externalId: z.string().min(1),
  contactExternalId: z.string().min(1),
  number: z.string().min(1),
  issueDate: isoDate,
  dueDate: isoDate,
  currency: currencyCode,
  totalMinor: z.number().int(),
  amountPaidMinor: z.number().int(),
  amountCreditedMinor: z.number().int(),
  amountDueMinor: z.number().int(),
  status: z.enum(INVOICE_STATUSES),
  paidOn: isoDate.nullable().optional(),
  payUrl: z.string().url().nullable().optional(),
  providerUpdatedAt: z.number().int().nullable().optional(),
});
export type CanonicalInvoice = z.infer<typeof canonicalInvoice>;

export const canonicalAllocation = z.object({
  invoiceExternalId: z.string().min(1),
  amountMinor: z.number().int(),
  date: isoDate,
});
export type CanonicalAllocation = z.infer<typeof canonicalAllocation>;

export const canonicalPayment = z.object({
  externalId: z.string().min(1),
  contactExternalId: z.string().nullable().optional(),
  date: isoDate,
  currency: currencyCode,
  amountMinor: z.number().int(),
  deleted: z.boolean().optional(),
  allocations: z.array(canonicalAllocation),
  /**
   * Credit applied in the same payment (QuickBooks: a Payment linking both invoices and credit memos): these
   * become allocations of the named credit notes to the invoices.
   */
  creditApplications: z
    .array(canonicalAllocation.extend({ creditNoteExternalId: z.string().min(1) }))
    .optional(),
  providerUpdatedAt: z.number().int().nullable().optional(),
});
export type CanonicalPayment = z.infer<typeof canonicalPayment>;

export const canonicalCreditNote = z.object({
  externalId: z.string().min(1),
  contactExternalId: z.string().min(1),
  number: z.string().nullable().optional(),
  issueDate: isoDate,
  currency: currencyCode,
  totalMinor: z.number().int(),
  remainingMinor: z.number().int(),
  status: z.enum(INVOICE_STATUSES),
  allocations: z.array(canonicalAllocation),
  providerUpdatedAt: z.number().int().nullable().optional(),
});
export type CanonicalCreditNote = z.infer<typeof canonicalCreditNote>;

/**
 * An OAuth token set as a connection keeps it: connectors return it, the token keeper (connectors/tokens.ts)
 * refreshes it, and the store keeps it sealed (src/store/connection-tokens.ts).
 */
export interface ProviderTokenSet {
  accessToken: string;
  refreshToken: string;
  /** Epoch ms when the access token expires. */
  expiresAt: number;
  refreshExpiresAt?: number;
  scope?: string;
  idToken?: string;
}

export type AgingBucket = "current" | "1-30" | "31-60" | "61-90" | "90+";
export const AGING_BUCKETS: readonly AgingBucket[] = ["current", "1-30", "31-60", "61-90", "90+"];

/** The aging bucket of an open invoice `late` days past its due date (0 or less: not yet due). */
export function agingBucketOfDays(late: number): AgingBucket {
  if (late <= 0) return "current";
  if (late <= 30) return "1-30";
  if (late <= 60) return "31-60";
  if (late <= 90) return "61-90";
  return "90+";
}

/** When scheduled statements go: monthly on a day (31 = the month's last day) or weekly on an ISO weekday. */
export const statementSchedule = z.discriminatedUnion("every", [
  z.object({ every: z.literal("month"), day: z.number().int().min(1).max(31) }),
  z.object({ every: z.literal("week"), weekday: z.number().int().min(1).max(7) }),
]);
export type StatementSchedule = z.infer<typeof statementSchedule>;
/** A schedule, or `off` (a customer's override: no statements even when the organisation sends them). */
export type StatementSetting = StatementSchedule | { every: "off" };
