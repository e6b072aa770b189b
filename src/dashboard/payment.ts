/**
 * The settings page's Payment section: the organisation's pay-URL template (used when the ledger has no pay link
 * for an invoice) and its bank details (shown for invoices without a link). Saving checks both and writes them
 * with their audit row together; a value that cannot be saved comes back with why, per field.
 */
import type { Deps } from "../deps";
import { addDays, dateInZone } from "../model";
import type { PaymentSettings } from "../model/reminders";
import { renderStatement } from "../portal/statement";
import { checkPayUrlTemplate, payView } from "../reminders/pay-links";
import type { Organisation } from "../store/orgs";
import { loadPaymentSettings, savePaymentSettings } from "../store/payment";
import { auditMemberChange, type Member } from "./member";

export const MAX_PAY_URL_TEMPLATE_CHARS = 2000;
export const MAX_BANK_DETAILS_CHARS = 1000;

/** The form's fields, as typed. */
export interface PaymentForm {
  pay_url_template: string;
  bank_details: string;
}

export type PaymentFormErrors = Partial<Record<keyof PaymentForm, string>>;

export async function paymentSettingsOf(deps: Deps, org: Organisation): Promise<PaymentSettings> {
  return loadPaymentSettings(deps.store.db, org.id);
}

/** Why each field cannot be saved (empty when both can). */
export function checkPaymentForm(f: PaymentForm): PaymentFormErrors {
  const errors: PaymentFormErrors = {};
  const template = f.pay_url_template.trim();
  if (template.length > MAX_PAY_URL_TEMPLATE_CHARS)
    errors.pay_url_template = `The link is ${template.length} characters; the most allowed is ${MAX_PAY_URL_TEMPLATE_CHARS}.`;
  else if (template) {
    const problem = checkPayUrlTemplate(template);
    if (problem) errors.pay_url_template = `Not saved: ${problem}.`;
  }
  const bank = f.bank_details.trim();
  if (bank.length > MAX_BANK_DETAILS_CHARS)
    errors.bank_details = `The bank details are ${bank.length} characters; the most allowed is ${MAX_BANK_DETAILS_CHARS}.`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
  else if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(bank))
    errors.bank_details = "The bank details contain control characters: type plain text.";
  return errors;
}

/**
 * Saves the Payment settings (an empty field clears it) with the member's audit row, or returns why not per
 * field (nothing is written).
 */
export async function savePayment(
  deps: Deps,
  org: Organisation,
  f: PaymentForm,
  member: Member,
): Promise<PaymentFormErrors | null> {
  const errors = checkPaymentForm(f);
  if (Object.keys(errors).length) return errors;
  const settings: PaymentSettings = {
    payUrlTemplate: f.pay_url_template.trim() || null,
    bankDetails: f.bank_details.replace(/\r\n?/g, "\n").trim() || null,
  };
  const { store } = deps;
  const now = deps.clock.now();
  await store.atomically(async () => {
    await savePaymentSettings(store.db, org.id, settings, now);
    await auditMemberChange(
      store.db,
      member,
      {
        orgId: org.id,
        action: "settings.payment",
        detail: { pay_url_template: settings.payUrlTemplate, bank_details: settings.bankDetails !== null },
      },
      now,
    );
  });
  return null;
}

/**
 * A sample customer's PDF statement with the organisation's Payment settings applied (two invoices without a
 * ledger link, one with): what customers will see, with no real customer data.
 */
export async function sampleStatementPdf(deps: Deps, org: Organisation): Promise<Buffer> {
  const today = dateInZone(deps.clock.now(), org.timezone);
  const sample = (n: number, due: number, minor: number, payUrl: string | null) => ({
    id: `sample-${n}`,
    number: `INV-${1000 + n}`,
    issueDate: addDays(today, due - 30),
    dueDate: addDays(today, due),
    currency: org.baseCurrency,
    totalMinor: minor,
    amountDueMinor: minor,
    payUrl,
    disputedAt: null,
    pause: null,
  });
  const invoices = [
    sample(1, -12, 125_000, null),
    sample(2, -3, 48_050, "https://pay.example/sample-ledger-link"),
    sample(3, 10, 9_900, null),
  ];
  return renderStatement({
    orgName: org.name,
    locale: org.locale,
    customerName: "Sample Customer Ltd",
    customerId: "SAMPLE",
    today,
    invoices,
    pay: payView(invoices, await paymentSettingsOf(deps, org)),
  });
}
