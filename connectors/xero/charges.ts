/**
 * Late-payment charges written to Xero: an ACCREC invoice for the customer whose Reference is the charge's
 * deterministic reference and whose one line names the original invoice. Before creating, the invoice is looked
 * up by that Reference (`where=Reference=="…"`), so a retry after a crash between the write and its record
 * finds the first one instead of creating a second; the create itself carries the reference as Xero's
 * Idempotency-Key, so the client's own retries of a PUT are applied once too.
 */
import { formatMinor } from "../../src/model";
import {
  type ChargeInvoice,
  type ChargeInvoiceResult,
  type ConnectionContext,
  ConnectorError,
} from "../connector";
import type { XeroApi } from "./client";

// biome-ignore lint/suspicious/noExplicitAny: raw Xero JSON.
type XeroRecord = Record<string, any>;

const found = (r: XeroRecord): ChargeInvoiceResult => ({
  ledgerId: String(r.InvoiceID),
  number: r.InvoiceNumber ? String(r.InvoiceNumber) : null,
  found: true,
});

export async function writeXeroChargeInvoice(
  api: XeroApi,
  ctx: ConnectionContext,
  charge: ChargeInvoice,
): Promise<ChargeInvoiceResult> {
  const ref = charge.reference.replace(/"/g, "");
  const existing = await api.request<XeroRecord>(ctx, {
    path: "/Invoices",
    query: { where: `Reference=="${ref}"`, summaryOnly: "true" },
  });
  const hit = ((existing.body?.Invoices as XeroRecord[] | undefined) ?? []).find(
    (r) => r?.Reference === ref && r.Status !== "DELETED",
  );
  if (hit) return found(hit);
  const made = await api.request<XeroRecord>(ctx, {
    method: "PUT",
    path: "/Invoices",
    idempotencyKey: `creditpulse-${ref}`,
    body: {
      Invoices: [
        {
          Type: "ACCREC",
          Contact: { ContactID: charge.contactExternalId },
          Date: charge.date,
          DueDate: charge.dueDate,
          Reference: ref,
          Status: charge.status,
          CurrencyCode: charge.currency,
          LineAmountTypes: "NoTax",
          LineItems: [
            {
              Description: charge.description,
              Quantity: 1,
              UnitAmount: Number(formatMinor(charge.amountMinor, charge.currency)),
              ...(charge.account ? { AccountCode: charge.account } : {}),
            },
          ],
        },
      ],
    },
  });
  const inv = (made.body?.Invoices as XeroRecord[] | undefined)?.[0];
  if (!inv?.InvoiceID)
    throw new ConnectorError("invalid_data", "Xero did not return the new charge invoice", {
      provider: "xero",
    });
  return { ...found(inv), found: false };
}
