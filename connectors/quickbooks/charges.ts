/**
 * Late-payment charges written to QuickBooks Online: an Invoice for the customer whose DocNumber is the charge's
 * deterministic reference (at most 21 characters) and whose one sales line names the original invoice. Before
 * creating, the invoice is looked up by DocNumber, so a retry after a crash between the write and its record
 * finds the first one instead of creating a second; the create carries the reference as Intuit's `requestid`,
 * so the client's own retries of the POST are applied once too. QuickBooks has no draft invoices: the invoice
 * is created without being emailed (EmailStatus NotSet), whatever the organisation's DRAFT/AUTHORISED choice.
 */
import { formatMinor } from "../../src/model";
import {
  type ChargeInvoice,
  type ChargeInvoiceResult,
  type ConnectionContext,
  ConnectorError,
} from "../connector";
import type { QboApi } from "./client";

/** QuickBooks' own "Services" item, present in every company: the default item of a charge line. */
export const DEFAULT_CHARGE_ITEM = "1";

type QboInvoice = { Id?: string; DocNumber?: string };

export async function writeQboChargeInvoice(
  api: QboApi,
  ctx: ConnectionContext,
  charge: ChargeInvoice,
): Promise<ChargeInvoiceResult> {
  const ref = charge.reference.replace(/'/g, "").slice(0, 21);
  const res = await api.query(ctx, `SELECT * FROM Invoice WHERE DocNumber = '${ref}'`);
  const hit = ((res.QueryResponse?.Invoice ?? []) as QboInvoice[]).find((i) => i.DocNumber === ref);
  if (hit?.Id) return { ledgerId: hit.Id, number: ref, found: true };
  const amount = Number(formatMinor(charge.amountMinor, charge.currency));
  const made = await api.save<QboInvoice>(
    ctx,
    "Invoice",
    {
      CustomerRef: { value: charge.contactExternalId },
      DocNumber: ref,
      TxnDate: charge.date,
      DueDate: charge.dueDate,
      CurrencyRef: { value: charge.currency },
      PrivateNote: charge.description,
      EmailStatus: "NotSet",
      Line: [
        {
          DetailType: "SalesItemLineDetail",
          Amount: amount,
          Description: charge.description,
          SalesItemLineDetail: {
            ItemRef: { value: charge.account ?? DEFAULT_CHARGE_ITEM },
            Qty: 1,
            UnitPrice: amount,
          },
        },
      ],
    },
    { requestid: `creditpulse-${ref}` },
  );
  if (!made?.Id)
    throw new ConnectorError("invalid_data", "QuickBooks did not return the new charge invoice", {
      provider: "quickbooks",
    });
  return { ledgerId: made.Id, number: made.DocNumber ?? ref, found: false };
}
