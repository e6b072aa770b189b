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
 *   a 4xx reply): release it for the next run;
 * - "rejected": the server refused it for good (a 5xx reply): do not retry, leave it for review;
 * - "unknown": the connection broke without a verdict (e.g. after DATA): it may have been accepted, so it is
 *   left for review and never resent automatically.
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
]);

export function classifySendError(err: unknown): SendFailure {
  if (!err || typeof err !== "object") return "unknown";
  const e = err as { code?: unknown; responseCode?: unknown; command?: unknown; errno?: unknown };
  if (typeof e.responseCode === "number") {
    if (e.responseCode >= 400 && e.responseCode < 500) return "retry";
    if (e.responseCode >= 500) return "rejected";
  }
  if (typeof e.code === "string" && NOT_CONNECTED_CODES.has(e.code)) return "retry";
  // Failing while connecting (nodemailer's command "CONN"), before any message data was written.
  if (e.command === "CONN") return "retry";
  if (
    e.errno === "ECONNREFUSED" ||
    (typeof e.code === "string" && e.code === "ESOCKET" && e.command === "CONN")
  )
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
