/**
 * Mail over HTTP for hosts that block SMTP (Cloudflare Workers): Postmark's email API (`POST /email` with the
 * server token). It implements the same `Mailer` interface as SMTP, and its failures are given SMTP-style
 * reply codes so `classifySendError` keeps its one rule: a message Postmark may have taken is never resent.
 * - 401/403 (bad token), 429 (rate limited): certainly not taken -> "retry" (code 421);
 * - 422 (the message or recipient is invalid, e.g. an inactive recipient): refused for good -> "rejected" (550);
 * - 5xx, a timeout or a connection lost after the request went out: may have been taken -> "unknown".
 */
import type { Mailer, OutgoingMail, SentMail } from "./mailer";

export interface PostmarkMailerOptions {
  serverToken: string;
  /** API base; default Postmark's. Tests point it at a local fake. */
  apiUrl?: string;
  /** Give up on a silent API (ms). */
  timeoutMs?: number;
  /** Postmark message stream (default "outbound", the transactional stream). */
  messageStream?: string;
  fetch?: typeof fetch;
}

export interface MailAttachment {
  filename: string;
  content: Uint8Array;
  contentType: string;
  /** Content-ID for inline images (without angle brackets). */
  cid?: string;
}

/** A send failure carrying what the classifier reads (`responseCode`, `code`). */
export class HttpMailError extends Error {
  constructor(
    message: string,
    readonly responseCode: number | undefined,
    readonly code: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "HttpMailError";
  }
}

function base64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function createPostmarkMailer(opts: PostmarkMailerOptions) {
  const doFetch = opts.fetch ?? fetch;
  const url = `${(opts.apiUrl ?? "https://api.postmarkapp.com").replace(/\/+$/, "")}/email`;
  const timeoutMs = opts.timeoutMs ?? 30_000;

  async function post(body: Record<string, unknown>): Promise<{ MessageID?: string; To?: string }> {
    let res: Response;
    try {
      res = await doFetch(url, {
        method: "POST",
        headers: {
          accept: "application/json",
          "content-type": "application/json",
          "x-postmark-server-token": opts.serverToken,
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      // The request may have reached Postmark before the connection failed: never resend automatically.
      throw new HttpMailError(
        `mail API unreachable: ${err instanceof Error ? err.message : String(err)}`,
        undefined,
        "EHTTP",
      );
    }
    const text = await res.text();
    let json: { ErrorCode?: number; Message?: string; MessageID?: string; To?: string } = {};
    try {
      json = JSON.parse(text);
    } catch {
      // not JSON (a proxy's error page): the status decides
    }
    if (res.ok && (json.ErrorCode ?? 0) === 0) return json;
    const what = `mail API answered ${res.status}${json.Message ? `: ${json.Message}` : ""}`;
    if (res.status === 401 || res.status === 403 || res.status === 429)
      throw new HttpMailError(what, 421, "EHTTPREFUSED", res.status);
    if (res.status === 422 || res.status === 400)
      throw new HttpMailError(what, 550, "EHTTPREJECTED", res.status);
    throw new HttpMailError(what, undefined, "EHTTP", res.status);
  }

  const headerList = (h: Record<string, string> | undefined, messageId?: string) => [
    ...(messageId ? [{ Name: "Message-ID", Value: messageId }] : []),
    ...Object.entries(h ?? {}).map(([Name, Value]) => ({ Name, Value })),
  ];

  const mailer: Mailer & {
    sendWithAttachments(mail: OutgoingMail, attachments: MailAttachment[]): Promise<SentMail>;
  } = {
    send: (mail) =>
      mailer.sendWithAttachments(
        mail,
        (mail.attachments ?? []).map((a) => ({ ...a, content: new Uint8Array(a.content) })),
      ),
    async sendWithAttachments(mail, attachments) {
      const r = await post({
        From: mail.from,
        To: mail.to.join(", "),
        ...(mail.bcc?.length ? { Bcc: mail.bcc.join(", ") } : {}),
        ...(mail.replyTo ? { ReplyTo: mail.replyTo } : {}),
        Subject: mail.subject,
        HtmlBody: mail.html,
        TextBody: mail.text,
        Headers: [
          ...headerList(mail.headers, mail.messageId),
          { Name: "Date", Value: mail.date.toUTCString() },
        ],
        MessageStream: opts.messageStream ?? "outbound",
        ...(attachments.length
          ? {
              Attachments: attachments.map((a) => ({
                Name: a.filename,
                Content: base64(a.content),
                ContentType: a.contentType,
                ...(a.cid ? { ContentID: `cid:${a.cid}` } : {}),
              })),
            }
          : {}),
      });
      return {
        messageId: mail.messageId,
        accepted: [...mail.to, ...(mail.bcc ?? [])],
        rejected: [],
        response: `Postmark ${r.MessageID ?? ""}`.trim(),
      };
    },
    async close() {},
  };
  return mailer;
}
