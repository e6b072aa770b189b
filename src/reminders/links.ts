/**
 * Links in reminders. Every reminder carries a freshly signed link to the customers' page
 * (`<PUBLIC_URL>/c/<token>`, see src/portal/token.ts) and a one-click opt-out at `<page link>/unsubscribe`,
 * which the `List-Unsubscribe` headers point at.
 */

/** `List-Unsubscribe` (RFC 2369) with a one-click URL (RFC 8058) and a mailto fallback. */
export function listUnsubscribeHeaders(url: string, mailto: string | null): Record<string, string> {
  const parts = [`<${url}>`];
  if (mailto) parts.push(`<mailto:${mailto}?subject=unsubscribe>`);
  return { "List-Unsubscribe": parts.join(", "), "List-Unsubscribe-Post": "List-Unsubscribe=One-Click" };
}
