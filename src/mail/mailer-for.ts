/**
 * The install's mail transport: SMTP when SMTP_URL is set (nodemailer; on Workers through its TCP sockets
 * where the host allows them), else Postmark's HTTP API when POSTMARK_SERVER_TOKEN is set. Null when neither
 * (or MAIL_FROM) is configured. Reminders, owner notices, send-now and the digest all send through it.
 */
import type { Config } from "../config";
import type { Mailer } from "./mailer";

export function mailConfigured(config: Config): boolean {
  return Boolean((config.SMTP_URL || config.POSTMARK_SERVER_TOKEN) && config.MAIL_FROM);
}

/**
 * The transport alone, for senders whose From comes from the organisation's mail settings (src/mail/org-mail.ts):
 * null when neither SMTP_URL nor POSTMARK_SERVER_TOKEN is set.
 */
export async function transportFor(config: Config, opts: { timeoutMs?: number; pool?: boolean } = {}) {
  return mailerFor({ ...config, MAIL_FROM: config.MAIL_FROM ?? "transport@localhost" }, opts);
}

export async function mailerFor(config: Config, opts: { timeoutMs?: number; pool?: boolean } = {}) {
  if (!mailConfigured(config)) return null;
  if (config.SMTP_URL) {
    const { createSmtpMailer } = await import("./smtp-mailer");
    return createSmtpMailer({ url: config.SMTP_URL, ...opts }) as Mailer;
  }
  const { createPostmarkMailer } = await import("./http-mailer");
  return createPostmarkMailer({
    serverToken: config.POSTMARK_SERVER_TOKEN!,
    apiUrl: config.POSTMARK_API_URL,
    timeoutMs: opts.timeoutMs,
  }) as Mailer;
}

/**
 * Runs `fn` with the install's mail transport and closes it afterwards. A dry run gets none (it sends nothing);
 * otherwise null, without calling `fn`, when no transport is configured or there is no sender (`from`: the
 * organisation's, src/mail/org-mail.ts; by default MAIL_FROM).
 */
export async function withMailer<T>(
  config: Config,
  dryRun: boolean | undefined,
  fn: (mailer: Mailer | undefined) => Promise<T>,
  from: string | null | undefined = config.MAIL_FROM,
): Promise<T | null> {
  if (!dryRun && !from) return null;
  const mailer = dryRun ? undefined : await transportFor(config);
  if (mailer === null) return null;
  try {
    return await fn(mailer);
  } finally {
    await mailer?.close();
  }
}
