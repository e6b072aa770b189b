/**
 * Links in reminders. Until the customers' page exists (issue 8) a reminder carries only the unsubscribe
 * link: `<PUBLIC_URL>/unsubscribe/<token>`, the token an HMAC of the organisation and contact ids under the
 * install secret, so it cannot be guessed or enumerated. The route that honours it comes with that issue.
 */
import { createHmac } from "node:crypto";

export function unsubscribeToken(secret: string, orgId: string, contactId: string): string {
  const mac = createHmac("sha256", secret)
    .update(`unsubscribe\u0000${orgId}\u0000${contactId}`)
    .digest("base64url");
  return `${contactId}.${mac.slice(0, 32)}`;
}

export function unsubscribeUrl(baseUrl: string, secret: string, orgId: string, contactId: string): string {
  return `${baseUrl.replace(/\/+$/, "")}/unsubscribe/${unsubscribeToken(secret, orgId, contactId)}`;
}

/** `List-Unsubscribe` (RFC 2369) with a one-click URL (RFC 8058) and a mailto fallback. */
export function listUnsubscribeHeaders(url: string, mailto: string | null): Record<string, string> {
  const parts = [`<${url}>`];
  if (mailto) parts.push(`<mailto:${mailto}?subject=unsubscribe>`);
  return { "List-Unsubscribe": parts.join(", "), "List-Unsubscribe-Post": "List-Unsubscribe=One-Click" };
}
