/**
 * SMS through Twilio's Messages API (`POST /2010-04-01/Accounts/{sid}/Messages.json`, form-encoded, basic auth
 * with the account SID and auth token), called with `fetch` so it runs on Node and Workers alike. Tests point
 * `apiUrl` at a local fake answering in Twilio's recorded shapes.
 *
 * Replies, mapped onto `SmsOutcome`:
 * - 201 with a message `sid`: accepted;
 * - 401/403 (credentials), 429 (rate limited), or no connection at all: retry later, nothing was sent;
 * - 400 and other 4xx with a Twilio error code: rejected; 21610 ("unsubscribed recipient") marks the number
 *   as opted out;
 * - 5xx, a timeout, or a connection lost after the request went out: unknown, never resent automatically.
 */
import type { OutgoingSms, SmsOutcome, SmsSender } from "./sender";

export interface TwilioOptions {
  accountSid: string;
  authToken: string;
  /** The sending number (E.164) or, instead, a Messaging Service SID (`MG…`). */
  from: string;
  /** API base; default Twilio's. */
  apiUrl?: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** Twilio's error code for a number that replied STOP. */
export const TWILIO_UNSUBSCRIBED = 21610;

const NOT_CONNECTED = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

function errorCode(err: unknown): string | undefined {
  const cause = (err as { cause?: { code?: string } } | undefined)?.cause;
  return cause?.code ?? (err as { code?: string } | undefined)?.code;
}

export function createTwilioSender(opts: TwilioOptions): SmsSender {
  const doFetch = opts.fetch ?? fetch;
  const base = (opts.apiUrl ?? "https://api.twilio.com").replace(/\/+$/, "");
  const url = `${base}/2010-04-01/Accounts/${encodeURIComponent(opts.accountSid)}/Messages.json`;
  const auth = `Basic ${btoa(`${opts.accountSid}:${opts.authToken}`)}`;
  const sender: Record<string, string> = opts.from.startsWith("MG")
    ? { MessagingServiceSid: opts.from }
    : { From: opts.from };

  return {
    async send(sms: OutgoingSms): Promise<SmsOutcome> {
      let res: Response;
      try {
        res = await doFetch(url, {
          method: "POST",
          headers: { authorization: auth, "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ To: sms.to, ...sender, Body: sms.body }).toString(),
          signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
        });
      } catch (err) {
        const code = errorCode(err);
        const what = `SMS API unreachable: ${err instanceof Error ? err.message : String(err)}${code ? ` (${code})` : ""}`;
        return { status: code && NOT_CONNECTED.has(code) ? "retry" : "unknown", reason: what };
      }
      let json: { sid?: string; code?: number; message?: string } = {};
      try {
        json = JSON.parse(await res.text());
      } catch {
        // a proxy's error page: the status decides
      }
      if (res.status >= 200 && res.status < 300 && json.sid) return { status: "accepted", id: json.sid };
      const reason = `SMS API answered ${res.status}${json.code ? ` (error ${json.code})` : ""}${json.message ? `: ${json.message}` : ""}`;
      if (res.status === 401 || res.status === 403 || res.status === 429) return { status: "retry", reason };
      if (res.status >= 400 && res.status < 500)
        return {
          status: "rejected",
          reason,
          ...(json.code === TWILIO_UNSUBSCRIBED ? { optedOut: true } : {}),
        };
      return { status: "unknown", reason };
    },
  };
}
