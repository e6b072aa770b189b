/**
 * An organisation's mail settings as the senders use them: its own sender, reply-to, BCC and owner-notice
 * recipients (settings page, #mail), each falling back to the install's environment values (MAIL_FROM,
 * MAIL_REPLY_TO, MAIL_BCC_OWNER, OWNER_EMAIL). Reminders, statements, hold notices, customers' page notices and
 * the settings page's test email all take their addresses from here.
 *
 * Reads no store and no clock: the settings come in.
 */
import type { Config } from "../config";
import type { ReminderSettings } from "../store/reminder-settings";
import { bareAddress } from "./address";

export type MailSettingsSource = Pick<
  ReminderSettings,
  "ownerEmail" | "senderEmail" | "senderName" | "replyTo" | "noticeEmails" | "bccEmails" | "bccOwner"
>;

export interface OrgMail {
  /** The From header ("Name <address>" or a bare address); null when neither the organisation nor MAIL_FROM has one. */
  from: string | null;
  replyTo: string | undefined;
  /** Blind copies of every reminder and statement (the organisation's list, plus the owner when BCC owner is on). */
  bcc: string[];
  /** Who gets owner notices: credit holds, proposals, customers' actions. */
  notice: string[];
}

type MailConfig = Pick<Config, "MAIL_FROM" | "MAIL_REPLY_TO" | "MAIL_BCC_OWNER" | "OWNER_EMAIL">;

/** A display name safe inside a quoted header word. */
const displayName = (name: string) => name.replace(/["\\\r\n<>]/g, "").trim();

/** The owner-notice recipients: the organisation's list, else its owner address, else OWNER_EMAIL. */
export function noticeRecipients(
  settings: Pick<ReminderSettings, "ownerEmail" | "noticeEmails">,
  config: Pick<Config, "OWNER_EMAIL">,
): string[] {
  if (settings.noticeEmails && settings.noticeEmails.length > 0) return [...settings.noticeEmails];
  const one = settings.ownerEmail ?? config.OWNER_EMAIL ?? null;
  return one ? [one] : [];
}

export function orgMail(settings: MailSettingsSource, config: MailConfig): OrgMail {
  const address = settings.senderEmail ?? (config.MAIL_FROM ? bareAddress(config.MAIL_FROM) : null);
  const name = settings.senderName ? displayName(settings.senderName) : "";
  const from = !address
    ? (config.MAIL_FROM ?? null)
    : name
      ? `"${name}" <${address}>`
      : settings.senderEmail
        ? address
        : (config.MAIL_FROM ?? address);
  const notice = noticeRecipients(settings, config);
  const bccOwner = settings.bccOwner ?? config.MAIL_BCC_OWNER === "1";
  const bcc = [...new Set([...(settings.bccEmails ?? []), ...(bccOwner ? notice : [])])];
  return { from, replyTo: settings.replyTo ?? config.MAIL_REPLY_TO, bcc, notice };
}

/** Whether the install has a mail transport at all (SMTP_URL, or POSTMARK_SERVER_TOKEN). */
export function transportConfigured(config: Pick<Config, "SMTP_URL" | "POSTMARK_SERVER_TOKEN">): boolean {
  return Boolean(config.SMTP_URL || config.POSTMARK_SERVER_TOKEN);
}

/** What is missing before this organisation can send mail, in words for the page (empty: nothing). */
export function mailMissing(
  settings: MailSettingsSource,
  config: MailConfig & Pick<Config, "SMTP_URL" | "POSTMARK_SERVER_TOKEN">,
): string[] {
  const missing: string[] = [];
  if (!transportConfigured(config))
    missing.push("a mail server: set SMTP_URL (or POSTMARK_SERVER_TOKEN) in the server's environment");
  if (!orgMail(settings, config).from)
    missing.push("a sender address: fill in “Sender address” under Mail settings (or set MAIL_FROM)");
  return missing;
}
