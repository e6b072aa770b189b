/**
 * An organisation's mail settings on the settings page (#mail): what is stored and what applies (the
 * environment's values fill what the organisation left empty), saving them with their audit row, and the
 * "send a test email" button, which sends to the signed-in member through exactly what reminders use.
 */
import type { Deps } from "../deps";
import { UserError } from "../errors";
import { domainOf } from "../mail/address";
import { errorText } from "../mail/mailer";
import { transportFor } from "../mail/mailer-for";
import { mailMissing, orgMail } from "../mail/org-mail";
import { formatMinor } from "../model";
import { newId } from "../store/ids";
import type { Organisation } from "../store/orgs";
import { loadReminderSettings, saveReminderSettings } from "../store/reminder-settings";
import { auditMemberChange, type Member } from "./member";

export interface MailSettingsInput {
  senderName: string | null;
  senderEmail: string | null;
  replyTo: string | null;
  noticeEmails: string[];
  bccEmails: string[];
  /** Minor units of the organisation's base currency; null = REMINDER_MIN_AMOUNT. */
  minAmountMinor: number | null;
}

/** The mail section's data: the stored values (as the form shows them) and what applies with the defaults. */
export async function mailSettingsView(deps: Deps, org: Organisation) {
  const { config } = deps;
  const s = await loadReminderSettings(deps.store.db, org);
  const applied = orgMail(s, config);
  return {
    stored: {
      sender_name: s.senderName ?? "",
      sender_email: s.senderEmail ?? "",
      reply_to: s.replyTo ?? "",
      notice_emails: (s.noticeEmails ?? (s.ownerEmail ? [s.ownerEmail] : [])).join(", "),
      bcc_emails: (s.bccEmails ?? []).join(", "),
      min_amount:
        s.minAmountMinor !== null && s.minAmountCurrency
          ? formatMinor(s.minAmountMinor, s.minAmountCurrency)
          : s.minAmount !== null
            ? String(s.minAmount)
            : "",
    },
    defaults: {
      from: config.MAIL_FROM ?? null,
      reply_to: config.MAIL_REPLY_TO ?? null,
      owner_email: config.OWNER_EMAIL ?? null,
      min_amount: String(config.REMINDER_MIN_AMOUNT),
    },
    applied: {
      from: applied.from,
      reply_to: applied.replyTo ?? null,
      bcc: applied.bcc,
      notice: applied.notice,
    },
    currency: org.baseCurrency,
    missing: mailMissing(s, config),
  };
}

export async function saveMailSettings(
  deps: Deps,
  org: Organisation,
  input: MailSettingsInput,
  member: Member,
): Promise<void> {
  const { store } = deps;
  const now = deps.clock.now();
  await store.atomically(async () => {
    await saveReminderSettings(
      store.db,
      org,
      {
        senderName: input.senderName,
        senderEmail: input.senderEmail,
        replyTo: input.replyTo,
        noticeEmails: input.noticeEmails.length ? input.noticeEmails : null,
        // The first notice recipient is the owner address other parts of the product show.
        ownerEmail: input.noticeEmails[0] ?? null,
        bccEmails: input.bccEmails.length ? input.bccEmails : null,
        minAmountMinor: input.minAmountMinor,
        minAmountCurrency: input.minAmountMinor === null ? null : org.baseCurrency,
        minAmount: null,
      },
      now,
    );
    await auditMemberChange(
      store.db,
      member,
      {
        orgId: org.id,
        action: "settings.mail",
        detail: {
          senderEmail: input.senderEmail,
          replyTo: input.replyTo,
          noticeEmails: input.noticeEmails,
          bccEmails: input.bccEmails,
          minAmountMinor: input.minAmountMinor,
        },
      },
      now,
    );
  });
}

/**
 * Sends a short test email to the member through the organisation's mail settings (From, Reply-To, no BCC).
 * A UserError (409) naming what to set when mail is not configured; one (502) with the server's answer when the
 * mail server refuses it.
 */
export async function sendTestEmail(
  deps: Deps,
  org: Organisation,
  member: Member,
): Promise<{ to: string; from: string }> {
  const { config } = deps;
  const now = deps.clock.now();
  const settings = await loadReminderSettings(deps.store.db, org);
  const missing = mailMissing(settings, config);
  if (missing.length)
    throw new UserError("mail_not_configured", `Mail is not set up yet. Set ${missing.join("; and ")}.`, 409);
  const mail = orgMail(settings, config);
  const from = mail.from!;
  const mailer = await transportFor(config, { timeoutMs: 15_000, pool: false });
  if (!mailer) throw new UserError("mail_not_configured", "No mail server is configured (SMTP_URL).", 409);
  try {
    await mailer.send({
      from,
      to: [member.email],
      replyTo: mail.replyTo,
      subject: `Test email from Creditpulse for ${org.name}`,
      text: `This is a test email from Creditpulse.\n\nReminders for ${org.name} will be sent from ${from}${mail.replyTo ? `, with replies going to ${mail.replyTo}` : ""}.\n`,
      html: `<p>This is a test email from Creditpulse.</p><p>Reminders for ${escapeHtml(org.name)} will be sent from ${escapeHtml(from)}${mail.replyTo ? `, with replies going to ${escapeHtml(mail.replyTo)}` : ""}.</p>`,
      messageId: `<${newId("eml")}@${domainOf(from)}>`,
      date: new Date(now),
    });
  } catch (err) {
    throw new UserError("mail_failed", `The mail server did not take the test email: ${errorText(err)}`, 409);
  } finally {
    await mailer.close();
  }
  await auditMemberChange(
    deps.store.db,
    member,
    { orgId: org.id, action: "settings.mail_test", detail: { to: member.email } },
    now,
  );
  return { to: member.email, from };
}

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]!,
  );
