/**
 * The install's mail transport: SMTP when SMTP_URL is set (nodemailer; on Workers through its TCP sockets
 * where the host allows them), else Postmark's HTTP API when POSTMARK_SERVER_TOKEN is set. Null when neither
 * (or MAIL_FROM) is configured.
 */
import type { Config } from "../config";
import type { Mailer } from "./mailer";

export function mailConfigured(config: Config): boolean {
  return Boolean((config.SMTP_URL || config.POSTMARK_SERVER_TOKEN) && config.MAIL_FROM);
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

/** What the digest sends through: nodemailer's `sendMail` shape (attachments with cid for inline charts). */
export interface DigestTransport {
  sendMail(mail: {
    from?: string;
    to: string;
    subject: string;
    html: string;
    text: string;
    date: Date;
    attachments: { filename: string; cid: string; content: Uint8Array; contentType: string }[];
  }): Promise<{ messageId?: string }>;
  close(): void;
}

export async function mailTransportFor(config: Config): Promise<DigestTransport | null> {
  if (!mailConfigured(config)) return null;
  if (config.SMTP_URL) {
    const { default: nodemailer } = await import("nodemailer");
    return nodemailer.createTransport({
      url: config.SMTP_URL,
      tls: { rejectUnauthorized: !/^smtps?:\/\/(127\.0\.0\.1|localhost)[:/]/.test(config.SMTP_URL) },
    } as never) as unknown as DigestTransport;
  }
  const { createPostmarkMailer } = await import("./http-mailer");
  const mailer = createPostmarkMailer({
    serverToken: config.POSTMARK_SERVER_TOKEN!,
    apiUrl: config.POSTMARK_API_URL,
  });
  return {
    async sendMail(m) {
      const messageId = `<${crypto.randomUUID()}@creditpulse>`;
      await mailer.sendWithAttachments(
        {
          from: m.from ?? config.MAIL_FROM!,
          to: [m.to],
          subject: m.subject,
          html: m.html,
          text: m.text,
          messageId,
          date: m.date,
        },
        m.attachments,
      );
      return { messageId };
    },
    close() {},
  };
}
