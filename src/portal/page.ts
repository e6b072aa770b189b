/**
 * What the customers' page (src/http/portal.tsx) asks of the store: who a page token stands for, their open
 * invoices, and the hourly allowance of actions per customer and per IP address (kept in the store, so limits
 * hold across restarts and processes).
 */
import type { IsoDate } from "../model";
import { type PayView, payView } from "../reminders/pay-links";
import type { Store } from "../store/db";
import type { Organisation } from "../store/orgs";
import { cachedOnlineLinks, loadPaymentSettings } from "../store/payment";
import { openInvoicesOf, type PortalContact, type PortalInvoice, pruneHits, takeHit } from "../store/portal";
import { verifyPageToken } from "./token";

const HOUR_MS = 3_600_000;

/** The contact a page token stands for, or null (tampered, expired, revoked, unknown: all the same). */
export function customerFor(
  store: Store,
  secret: string,
  token: string,
  now: number,
): Promise<PortalContact | null> {
  return verifyPageToken(store.db, secret, token, now);
}

export interface OpenItems {
  invoices: PortalInvoice[];
  /** How each is paid: its pay link (the ledger's, else the organisation's template), else bank details. */
  pay: PayView;
}

/**
 * The customer's open invoices as of `today` (their organisation's date), and how to pay them. Xero online
 * invoice links are the ones reminder runs cached: the page never calls the ledger.
 */
export async function openItemsFor(store: Store, who: PortalContact, today: IsoDate): Promise<OpenItems> {
  const invoices = await openInvoicesOf(store.db, who.org.id, who.contact.id, today);
  return { invoices, pay: await paymentOf(store, who.org, invoices) };
}

/** How these invoices of `org` are paid (the page, its PDF and the scheduled statements agree). */
export async function paymentOf(
  store: Store,
  org: Pick<Organisation, "id" | "provider">,
  invoices: readonly PortalInvoice[],
): Promise<PayView> {
  const { db } = store;
  const online =
    org.provider === "xero"
      ? await cachedOnlineLinks(
          db,
          org.id,
          invoices.map((i) => i.id),
        )
      : new Map<string, string>();
  return payView(invoices, await loadPaymentSettings(db, org.id), online);
}

/** Takes one action from the allowance: `perHour` per customer, three times that per IP address. */
export async function actionAllowed(
  store: Store,
  who: PortalContact,
  ip: string,
  perHour: number,
  now: number,
): Promise<boolean> {
  const since = now - HOUR_MS;
  await pruneHits(store.db, now - 2 * HOUR_MS);
  if (!(await takeHit(store.db, `contact:${who.contact.id}`, perHour, since, now))) return false;
  return takeHit(store.db, `ip:${ip}`, perHour * 3, since, now);
}
