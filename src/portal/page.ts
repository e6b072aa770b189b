/**
 * What the customers' page (src/http/portal.tsx) asks of the store: who a page token stands for, their open
 * invoices, and the hourly allowance of actions per customer and per IP address (kept in the store, so limits
 * hold across restarts and processes).
 */
import type { IsoDate } from "../model";
import type { Store } from "../store/db";
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

/** The customer's open invoices as of `today` (their organisation's date). */
export function openInvoicesFor(store: Store, who: PortalContact, today: IsoDate): Promise<PortalInvoice[]> {
  return openInvoicesOf(store.db, who.org.id, who.contact.id, today);
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
