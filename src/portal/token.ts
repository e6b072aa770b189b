/**
 * Customer page tokens: `signToken` (HMAC-SHA256 under the install secret, expiring) over the organisation id,
 * the contact id and the contact's current nonce. A token is refused when its signature, expiry or nonce is
 * wrong (rotating the nonce revokes every link sent), and all refusals look the same to the visitor.
 * CSRF tokens for the page's forms are signed separately and bound to the page token they were served with.
 */
import { createHash } from "node:crypto";
import { signToken, verifyToken } from "../signed";
import type { Db } from "../store/db";
import { ensurePortalNonce, findPortalContact, type PortalContact } from "../store/portal";

export const PAGE_PURPOSE = "customer-page";
const CSRF_PURPOSE = "customer-page-form";
const DAY_MS = 86_400_000;
/** How long a form stays valid after the page was served. */
export const CSRF_TTL_MS = 12 * 3_600_000;

interface PagePayload {
  o: string;
  c: string;
  n: string;
}

// The install's base URL has one home (src/base-url.ts); re-exported for the reminder links built from here.
export { baseUrlOf } from "../base-url";

/** A fresh page token for the contact (creates its nonce on first use), valid for `days`. */
export async function issuePageToken(
  db: Db,
  secret: string,
  ids: { orgId: string; contactId: string },
  now: number,
  days: number,
): Promise<string> {
  const n = await ensurePortalNonce(db, ids.orgId, ids.contactId, now);
  return signToken(
    secret,
    PAGE_PURPOSE,
    { o: ids.orgId, c: ids.contactId, n } satisfies PagePayload,
    now + days * DAY_MS,
  );
}

export interface CustomerLinks {
  customerPage: string;
  unsubscribe: string;
}

export function linksFor(baseUrl: string, token: string): CustomerLinks {
  return { customerPage: `${baseUrl}/c/${token}`, unsubscribe: `${baseUrl}/c/${token}/unsubscribe` };
}

/** The contact a page token stands for, or null (tampered, expired, revoked, unknown: all the same). */
export async function verifyPageToken(
  db: Db,
  secret: string,
  token: string,
  now: number,
): Promise<PortalContact | null> {
  if (token.length > 600) return null;
  const v = await verifyToken<PagePayload>(secret, PAGE_PURPOSE, token, now);
  if (!v.ok) return null;
  const p = v.payload;
  if (!p || typeof p.o !== "string" || typeof p.c !== "string" || typeof p.n !== "string") return null;
  return (await findPortalContact(db, p.o, p.c, p.n)) ?? null;
}

const bind = (pageToken: string) => createHash("sha256").update(pageToken).digest("base64url").slice(0, 22);

export function issueCsrf(secret: string, pageToken: string, now: number): Promise<string> {
  return signToken(secret, CSRF_PURPOSE, { b: bind(pageToken) }, now + CSRF_TTL_MS);
}

export async function checkCsrf(
  secret: string,
  pageToken: string,
  csrf: unknown,
  now: number,
): Promise<boolean> {
  if (typeof csrf !== "string" || csrf.length === 0 || csrf.length > 400) return false;
  const v = await verifyToken<{ b?: unknown }>(secret, CSRF_PURPOSE, csrf, now);
  return v.ok && v.payload?.b === bind(pageToken);
}
