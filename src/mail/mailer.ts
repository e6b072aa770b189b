/**
 * The one interface outgoing mail goes through (reminders, owner notices, later digests), and the rule that
 * decides what a failed send means: for dunning, a message that may have been accepted must never be resent
 * automatically, so only failures that prove non-acceptance are retried.
 */
export interface OutgoingMail {
  from: string;
  to: string[];
  bcc?: string[];
  replyTo?: string;
  subject: string;
  html: string;
  text: string;
  /** "<id@domain>" */
  messageId: string;
  /** The Date header: the run's instant, never the wall clock. */
  date: Date;
  headers?: Record<string, string>;
  /** Inline images (the digest's charts), referenced by `cid:` in the html. */
  attachments?: { filename: string; cid?: string; content: Buffer; contentType: string }[];
}

export interface SentMail {
  messageId: string;
  accepted: string[];
  rejected: string[];
  response: string;
}

export interface Mailer {
  send(mail: OutgoingMail): Promise<SentMail>;
  close(): Promise<void>;
}

/**
 * What a failed send means:
 * - "retry": the server certainly did not take the message (connection refused, DNS, TLS or auth failure,
 *   a 4xx reply, or a connection lost before the whole message was handed over): release it for the next run;
 * - "rejected": the server refused it for good (a 5xx reply, or the message or envelope cannot be sent as
 *   it is): do not retry, leave it for review;
 * - "unknown": no verdict after the whole message was sent (the connection was lost, or no final reply came
 *   in time): it may have been accepted, so it is left for review and never resent automatically.
 */
export type SendFailure = "retry" | "rejected" | "unknown";

const NOT_CONNECTED_CODES = new Set([
  "ECONNECTION",
  "EDNS",
  "ETLS",
  "EAUTH",
  "ENOAUTH",
  "ECONNREFUSED",
  "EHOSTUNREACH",
  "ETIMEDOUT",
  "ESOCKET",
]);

/** Records on a send error whether the whole message had been handed to the server when it failed. */
export function withPhase(err: unknown, dataSent: boolean): Error {
  const e = err instanceof Error ? err : new Error(String(err));
  return Object.assign(e, { dataSent });
}

export function classifySendError(err: unknown): SendFailure {
  if (!err || typeof err !== "object") return "unknown";
  const e = err as { code?: unknown; responseCode?: unknown; command?: unknown; dataSent?: unknown };
  // The server answered: its reply is the verdict, whenever it came.
  if (typeof e.responseCode === "number") {
    if (e.responseCode >= 400 && e.responseCode < 500) return "retry";
    if (e.responseCode >= 500) return "rejected";
  }
  // The whole message went out and no reply came (connection lost, timeout): it may have been accepted.
  if (e.dataSent === true) return "unknown";
  // The message had not all been sent: a server never accepts a message without its final dot.
  if (e.dataSent === false)
    return typeof e.code === "string" && NOT_CONNECTED_CODES.has(e.code) ? "retry" : "rejected";
  // Mailers that do not say how far they got: only failures while connecting are certain.
  if (e.dataSent === undefined && typeof e.code === "string" && e.command === "CONN") {
    if (e.code === "ECONNREFUSED" || e.code === "EDNS" || e.code === "ETLS") return "retry";
  }
  if (e.dataSent === undefined && (e.code === "ECONNREFUSED" || e.code === "EAUTH" || e.code === "ENOAUTH"))
    return "retry";
  return "unknown";
}

export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const e = err as Error & { responseCode?: number; code?: string };
    return `${e.code ? `${e.code}: ` : ""}${e.message}`.slice(0, 500);
  }
  return String(err).slice(0, 500);
}
