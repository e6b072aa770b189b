/**
 * The Node mailer: nodemailer over SMTP (`SMTP_URL`). One pooled transport per run, so a run's messages share
 * a few connections instead of paying a handshake each; `close()` ends it.
 */
import nodemailer from "nodemailer";
import type { Mailer, OutgoingMail, SentMail } from "./mailer";

export interface SmtpMailerOptions {
  /** smtp://user:pass@host:port or smtps://... */
  url: string;
  /** Give up on a silent server (ms). */
  timeoutMs?: number;
  /** Reuse connections (default true). */
  pool?: boolean;
}

export function createSmtpMailer(opts: SmtpMailerOptions): Mailer {
  const timeout = opts.timeoutMs ?? 30_000;
  const local = /^smtps?:\/\/(127\.0\.0\.1|localhost)[:/]/.test(opts.url);
  const common = {
    url: opts.url,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    // A local test server has no certificate; production servers offering STARTTLS are verified.
    tls: { rejectUnauthorized: !local },
  };
  const transport =
    (opts.pool ?? true)
      ? nodemailer.createTransport({ ...common, pool: true, maxConnections: 2 })
      : nodemailer.createTransport(common);
  return {
    async send(mail: OutgoingMail): Promise<SentMail> {
      const info = await transport.sendMail({
        from: mail.from,
        to: mail.to,
        bcc: mail.bcc,
        replyTo: mail.replyTo,
        subject: mail.subject,
        html: mail.html,
        text: mail.text,
        messageId: mail.messageId,
        date: mail.date,
        headers: mail.headers,
      });
      const addr = (a: unknown) =>
        typeof a === "string" ? a : ((a as { address?: string })?.address ?? String(a));
      return {
        messageId: info.messageId ?? mail.messageId,
        accepted: (info.accepted ?? []).map(addr),
        rejected: (info.rejected ?? []).map(addr),
        response: info.response ?? "",
      };
    },
    async close() {
      transport.close();
    },
  };
}
