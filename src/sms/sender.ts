/**
 * The one interface SMS goes through, and what a failed send means (the same rule as mail: a message the
 * provider may have taken is never resent automatically).
 * - "accepted": the provider took it (its id is kept);
 * - "retry": it certainly did not (bad credentials, rate limited, connection refused): try on a later run;
 * - "rejected": refused for good (an invalid or opted-out number, a body it will not send): left for review;
 * - "unknown": no verdict after the request went out (a 5xx, a timeout, a connection lost): left for review.
 */
export interface OutgoingSms {
  /** E.164. */
  to: string;
  body: string;
}

export type SmsOutcome =
  | { status: "accepted"; id: string }
  | { status: "retry" | "rejected" | "unknown"; reason: string; optedOut?: boolean };

export interface SmsSender {
  send(sms: OutgoingSms): Promise<SmsOutcome>;
}

/** The longest SMS we send: two concatenated segments' worth of characters. */
export const SMS_MAX_CHARS = 320;

/** An SMS body squeezed to one line of single spaces, or why it cannot go (empty, or over the limit). */
export function smsBody(text: string): { ok: true; body: string } | { ok: false; reason: string } {
  const body = text.replace(/\s+/g, " ").trim();
  if (!body) return { ok: false, reason: "the SMS template renders to nothing" };
  const length = [...body].length;
  if (length > SMS_MAX_CHARS)
    return { ok: false, reason: `the SMS is ${length} characters; the limit is ${SMS_MAX_CHARS}` };
  return { ok: true, body };
}
