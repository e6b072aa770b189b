/**
 * A level's SMS, sent right after its email (so only inside the customer's sending window, which the email's
 * planning honours): claim (invoice, level offset) rows before the provider is called, so the level's SMS never
 * goes twice; check the number (E.164 mobile) and the customer's STOP; render the organisation's short
 * template (at most 320 characters) with the same merge fields as the email, the customers' page link
 * included; send; record. A refused number, an opted-out one or a template that is too long is recorded with
 * its reason and not tried again for the level. As with mail, an SMS the provider may have taken is never
 * resent automatically (`needs_review`).
 */

import { errorText } from "../mail/mailer";
import { mobileNumber } from "../sms/phone";
import { smsBody } from "../sms/sender";
import { audit } from "../store/audit";
import { loadChargeSettings } from "../store/charges";
import type { Organisation } from "../store/orgs";
import { claimSms, isSmsOptedOut, newSmsId, recordSms, setSmsConsent, smsContact } from "../store/sms";
import { sandboxedLiquid } from "../templates/sandbox";
import type { PlannedEmail } from "./plan";
import type { ReminderFields } from "./render";
import type { ReminderDeps } from "./run-types";

export const DEFAULT_SMS_TEMPLATE =
  "{{ org.name }}: {{ invoice_count }} invoice{% if invoice_count > 1 %}s{% endif %} ({{ total_due }}) overdue. Details and ways to pay: {{ links.customer_page }} Reply STOP to opt out.";

const engine = sandboxedLiquid({ partials: new Map(), html: false });

/** The SMS text for these fields, or why it cannot go (a template error, empty, over 320 characters). */
export async function renderSms(
  template: string | null,
  fields: ReminderFields,
): Promise<{ ok: true; body: string } | { ok: false; reason: string }> {
  try {
    const text = await engine.parseAndRender(template ?? DEFAULT_SMS_TEMPLATE, fields);
    return smsBody(text);
  } catch (err) {
    return { ok: false, reason: `the SMS template does not render: ${errorText(err)}` };
  }
}

export type SmsResultStatus = "sent" | "refused" | "failed" | "needs_review" | "skipped";

/** Sends the SMS of `email`'s level when the level has one; null when it has none. */
export async function sendLevelSms(
  deps: Pick<ReminderDeps, "store" | "log" | "sms">,
  org: Organisation,
  email: PlannedEmail,
  invoiceIds: string[],
  fields: ReminderFields,
  now: number,
): Promise<{ status: SmsResultStatus; reason: string | null } | null> {
  if (!email.level.sms) return null;
  const { store } = deps;
  if (!deps.sms) return { status: "skipped", reason: "SMS is not configured (TWILIO_*)" };
  const smsId = newSmsId();
  const won = await claimSms(
    store,
    smsId,
    invoiceIds.map((invoiceId) => ({
      orgId: org.id,
      contactId: email.contact.id,
      invoiceId,
      offsetDays: email.level.offsetDays,
      level: email.level.level,
    })),
    now,
  );
  if (won.size === 0) return { status: "skipped", reason: "this level's SMS was already sent" };
  return deliverSms(
    deps,
    org,
    { smsId, contactId: email.contact.id, level: email.level.level, invoiceIds: [...won] },
    fields,
    now,
  );
}

/** Checks, renders, sends and records an SMS whose rows (`smsId`) are claimed. */
export async function deliverSms(
  deps: Pick<ReminderDeps, "store" | "log" | "sms">,
  org: Organisation,
  sms: { smsId: string; contactId: string; level: number; invoiceIds: string[] },
  fields: ReminderFields,
  now: number,
): Promise<{ status: SmsResultStatus; reason: string | null }> {
  const { store, log } = deps;
  const { smsId } = sms;
  const record = async (
    status: "sent" | "refused" | "failed" | "needs_review",
    detail: { to?: string | null; providerId?: string | null; reason?: string | null },
  ) => {
    await recordSms(store.db, smsId, { status, ...detail }, now);
    await audit(
      store.db,
      {
        orgId: org.id,
        contactId: sms.contactId,
        actor: "reminders",
        action: `sms.${status}`,
        detail: { smsId, level: sms.level, invoices: sms.invoiceIds, ...detail },
      },
      now,
    );
    if (status !== "sent") log.warn({ org: org.slug, smsId, status, reason: detail.reason }, "SMS not sent");
    return { status, reason: detail.reason ?? null };
  };
  if (!deps.sms) return record("failed", { reason: "SMS is not configured (TWILIO_*)" });

  const contact = await smsContact(store.db, sms.contactId);
  const number = mobileNumber(contact?.phone, contact?.country);
  if (!number.ok) return record("refused", { to: contact?.phone ?? null, reason: number.reason });
  if (await isSmsOptedOut(store.db, number.e164))
    return record("refused", { to: number.e164, reason: "the number replied STOP (opted out of SMS)" });
  const text = await renderSms((await loadChargeSettings(store.db, org.id)).smsTemplate, fields);
  if (!text.ok) return record("refused", { to: number.e164, reason: text.reason });
  const out = await deps.sms.send({ to: number.e164, body: text.body });
  if (out.status === "accepted") return record("sent", { to: number.e164, providerId: out.id });
  if (out.status === "rejected" && out.optedOut)
    await setSmsConsent(store.db, number.e164, true, "provider", now);
  return record(out.status === "retry" ? "failed" : out.status === "rejected" ? "refused" : "needs_review", {
    to: number.e164,
    reason: out.reason,
  });
}
