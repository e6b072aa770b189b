/**
 * An invoice's online invoice URL: `GET /Invoices/{InvoiceID}/OnlineInvoice` answers
 * `{ OnlineInvoices: [{ OnlineInvoiceUrl }] }` (test/fixtures/xero/invoice-online-invoice.spec.json). Xero
 * answers 400 for an invoice it will not put online (a draft, a deleted or voided one) and 404 for one it does
 * not know: both mean "no link" (null), which the caller caches. Other failures (rate limits after the client's
 * retries, 5xx, a revoked connection) throw, and nothing is cached. The call goes through the API client, so the
 * per-tenant and per-app limiters apply; it is background work (it keeps clear of the day's reserve).
 */
import { type ConnectionContext, ConnectorError } from "../connector";
import type { XeroApi } from "./client";

export async function onlineInvoiceUrl(
  api: XeroApi,
  ctx: ConnectionContext,
  invoiceId: string,
): Promise<string | null> {
  try {
    const res = await api.request<{ OnlineInvoices?: { OnlineInvoiceUrl?: unknown }[] }>(ctx, {
      path: `/Invoices/${encodeURIComponent(invoiceId)}/OnlineInvoice`,
      background: true,
    });
    const url = res.body?.OnlineInvoices?.[0]?.OnlineInvoiceUrl;
    return typeof url === "string" && url.trim() ? url.trim() : null;
  } catch (err) {
    if (err instanceof ConnectorError && (err.details.status === 400 || err.details.status === 404))
      return null;
    throw err;
  }
}
