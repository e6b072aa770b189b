/**
 * The Node mailer: SMTP (`SMTP_URL`) through nodemailer's SMTP connection, one connection per mailer reused for
 * the run's messages one after another (a run pays one handshake), closed by `close()`.
 *
 * It knows how far each send got, because that decides what a failure means (see classifySendError): once
 * the whole message has been handed to the server (DATA and its final dot), a lost connection or a timeout
 * waiting for the reply is an *unknown* outcome, never retried automatically. nodemailer's transport cannot
 * tell these apart (and its pool silently re-sends a message whose connection closed), so it is not used.
 */
import { Readable } from "node:stream";
import MailComposer from "nodemailer/lib/mail-composer";
import { parseConnectionUrl } from "nodemailer/lib/shared";
import SMTPConnection from "nodemailer/lib/smtp-connection";
import { type Mailer, type OutgoingMail, type SentMail, withPhase } from "./mailer";

export interface SmtpMailerOptions {
  /** smtp://user:pass@host:port or smtps://... */
  url: string;
  /** Give up on a silent server (ms): connecting, greeting, and every reply including the final one. */
  timeoutMs?: number;
  /** Keep the connection for the next message (default true). */
  pool?: boolean;
}

/** workerd (Cloudflare Workers) identifies itself so. */
const onWorkers =
  (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent === "Cloudflare-Workers";

export function createSmtpMailer(opts: SmtpMailerOptions): Mailer {
  const timeout = opts.timeoutMs ?? 30_000;
  const local = /^smtps?:\/\/(127\.0\.0\.1|localhost)[:/]/.test(opts.url);
  const parsed = parseConnectionUrl(opts.url);
  const { auth, ...rest } = parsed;
  const options: SMTPConnection.Options = {
    ...rest,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    // A local test server has no certificate; production servers offering STARTTLS are verified. workerd's
    // node:tls refuses the option itself ("options.rejectUnauthorized option is not implemented") and always
    // verifies against the public roots, so on Workers it is left out.
    ...(onWorkers ? {} : { tls: { rejectUnauthorized: !local } }),
  };
  const credentials =
    auth && "user" in auth && auth.user
      ? { user: auth.user, pass: (auth as { pass?: string }).pass ?? "" }
      : null;

  let open: SMTPConnection | null = null;
  let queue: Promise<unknown> = Promise.resolve();

  function connect(): Promise<SMTPConnection> {
    return new Promise((resolve, reject) => {
      const conn = new SMTPConnection(options);
      let settled = false;
      // Always listened to: an idle connection the server drops must not crash the process.
      conn.on("error", (err) => {
        if (open === conn) open = null;
        if (!settled) {
          settled = true;
          reject(err);
        }
      });
      conn.once("end", () => {
        if (open === conn) open = null;
        if (!settled) {
          settled = true;
          reject(Object.assign(new Error("Connection closed before the greeting"), { code: "ECONNECTION" }));
        }
      });
      conn.connect(() => {
        const ready = () => {
          if (settled) return;
          settled = true;
          resolve(conn);
        };
        if (credentials && (conn as unknown as { allowsAuth?: boolean }).allowsAuth) {
          conn.login(credentials, (err) => {
            if (err) {
              settled = true;
              conn.close();
              reject(err);
            } else ready();
          });
        } else ready();
      });
    });
  }

  async function sendNow(mail: OutgoingMail): Promise<SentMail> {
    const reusing = open !== null && !isClosed(open);
    try {
      return await sendOnce(mail);
    } catch (err) {
      // A kept connection the server has since closed (idle timeout, a 421 "closing"): nothing of this
      // message was sent, so it is safe to try once more on a fresh connection.
      const e = err as { dataSent?: boolean; responseCode?: number };
      if (reusing && e.dataSent === false && (e.responseCode === undefined || e.responseCode === 421))
        return sendOnce(mail);
      throw err;
    }
  }

  async function sendOnce(mail: OutgoingMail): Promise<SentMail> {
    const node = new MailComposer({
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
      attachments: mail.attachments,
    }).compile();
    const envelope = node.getEnvelope();
    const raw = await node.build();
    let conn: SMTPConnection;
    try {
      conn = open && !isClosed(open) ? open : await connect();
    } catch (err) {
      throw withPhase(err, false);
    }
    open = opts.pool === false ? null : conn;
    // The message leaves as one stream: when it has ended, the server has (or may have) all of it.
    let handedOver = false;
    const body = Readable.from([raw]);
    body.once("end", () => {
      handedOver = true;
    });
    return new Promise<SentMail>((resolve, reject) => {
      let done = false;
      const fail = (err: unknown) => {
        if (done) return;
        done = true;
        if (open === conn) open = null;
        conn.close();
        reject(withPhase(err, handedOver));
      };
      // A connection that breaks while waiting for a reply reports it as an "error" event.
      const onError = (err: Error) => fail(err);
      const onEnd = () =>
        fail(Object.assign(new Error("Connection closed unexpectedly"), { code: "ECONNECTION" }));
      conn.once("error", onError);
      conn.once("end", onEnd);
      conn.send(envelope, body, (err, info) => {
        conn.removeListener("error", onError);
        conn.removeListener("end", onEnd);
        if (err) return fail(err);
        if (done) return;
        done = true;
        if (open !== conn) conn.quit();
        resolve({
          messageId: mail.messageId,
          accepted: (info.accepted ?? []).map(String),
          rejected: (info.rejected ?? []).map(String),
          response: info.response ?? "",
        });
      });
    });
  }

  return {
    send(mail) {
      // One message at a time on the connection.
      const next = queue.then(
        () => sendNow(mail),
        () => sendNow(mail),
      );
      queue = next.catch(() => {});
      return next;
    },
    async close() {
      await queue;
      const conn = open;
      open = null;
      if (conn && !conn.destroyed) conn.quit();
    },
  };
}

const isClosed = (c: SMTPConnection) =>
  Boolean((c as unknown as { _destroyed?: boolean })._destroyed) || c._socket?.destroyed === true;
