/**
 * Links in reminders. Every reminder carries a freshly signed link to the customers' page
 * (`<PUBLIC_URL>/c/<token>`, see src/portal/token.ts) and a one-click opt-out at `<page link>/unsubscribe`,
 * which the `List-Unsubscribe` headers point at.
 */

import { bareAddress } from "../mail/address";

/**
 * `List-Unsubscribe` (RFC 2369) with a one-click URL (RFC 8058) and a mailto fallback. `mailto` may be a header
 * value with a display name ("Acme <billing@acme.example>"): only its bare address goes into the URI.
 */
export function listUnsubscribeHeaders(url: string, mailto: string | null): Record<string, string> {
  const parts = [`<${url}>`];
  const address = mailto ? bareAddress(mailto) : null;
  if (address) parts.push(`<mailto:${address}?subject=unsubscribe>`);
  return { "List-Unsubscribe": parts.join(", "), "List-Unsubscribe-Post": "List-Unsubscribe=One-Click" };
}
