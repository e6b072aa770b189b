/**
 * How customers pay: the organisation's Payment settings (pay-URL template, bank details) and the cache of Xero
 * online invoice links (one row per invoice, written by the reminder run; never by sync). Every write is one
 * idempotent statement, so the same code holds on D1.
 */
import { and, eq, inArray } from "drizzle-orm";
import type { OnlineLinkState, PaymentSettings } from "../model/reminders";
import type { Db } from "./db";
import { invoiceOnlineLinks, invoices, paymentSettings } from "./schema";

export const NO_PAYMENT_SETTINGS: PaymentSettings = { payUrlTemplate: null, bankDetails: null };

export async function loadPaymentSettings(db: Db, orgId: string): Promise<PaymentSettings> {
  const [row] = await db
    .select({ payUrlTemplate: paymentSettings.payUrlTemplate, bankDetails: paymentSettings.bankDetails })
    .from(paymentSettings)
    .where(eq(paymentSettings.orgId, orgId))
    .limit(1);
  return row ?? NO_PAYMENT_SETTINGS;
}

export async function savePaymentSettings(
  db: Db,
  orgId: string,
  s: PaymentSettings,
  now: number,
): Promise<void> {
  await db
    .insert(paymentSettings)
    .values({ orgId, ...s, updatedAt: now })
    .onConflictDoUpdate({ target: paymentSettings.orgId, set: { ...s, updatedAt: now } });
}

/** The invoices' ledger ids, statuses and cached online links (ids of other organisations are not found). */
export async function onlineLinkStates(
  db: Db,
  orgId: string,
  invoiceIds: readonly string[],
): Promise<OnlineLinkState[]> {
  const out: OnlineLinkState[] = [];
  // D1 binds at most 100 parameters per statement.
  for (let i = 0; i < invoiceIds.length; i += 90) {
    const rows = await db
      .select({
        invoiceId: invoices.id,
        externalId: invoices.externalId,
        status: invoices.status,
        url: invoiceOnlineLinks.url,
        fetchedAt: invoiceOnlineLinks.fetchedAt,
      })
      .from(invoices)
      .leftJoin(invoiceOnlineLinks, eq(invoiceOnlineLinks.invoiceId, invoices.id))
      .where(and(eq(invoices.orgId, orgId), inArray(invoices.id, invoiceIds.slice(i, i + 90))));
    for (const r of rows)
      out.push({ ...r, url: r.fetchedAt === null ? undefined : r.url, fetchedAt: r.fetchedAt });
  }
  return out;
}

/** The cached online links of these invoices that Xero had (invoice id -> URL). */
export async function cachedOnlineLinks(
  db: Db,
  orgId: string,
  invoiceIds: readonly string[],
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const s of await onlineLinkStates(db, orgId, invoiceIds)) if (s.url) out.set(s.invoiceId, s.url);
  return out;
}

/** Records what Xero said of an invoice's online link (null: it has none), replacing what was cached. */
export async function recordOnlineLink(
  db: Db,
  orgId: string,
  invoiceId: string,
  url: string | null,
  now: number,
): Promise<void> {
  await db
    .insert(invoiceOnlineLinks)
    .values({ invoiceId, orgId, url, fetchedAt: now })
    .onConflictDoUpdate({ target: invoiceOnlineLinks.invoiceId, set: { url, fetchedAt: now } });
}
