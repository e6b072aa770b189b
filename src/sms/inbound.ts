/**
 * Inbound SMS webhooks: the signature check and what a reply means for consent.
 *
 * Twilio signs each webhook with `X-Twilio-Signature`: the base64 HMAC-SHA1, under the auth token, of the full
 * URL it called followed by every POST parameter, sorted by name, as name + value with no separators. The
 * check runs on Web Crypto (Node and Workers), with a constant-time comparison.
 *
 * Opt-out and opt-in keywords are the carriers' standard ones, matched on the whole trimmed message,
 * case-insensitively.
 */
const enc = new TextEncoder();

export const STOP_WORDS = new Set([
  "STOP",
  "STOPALL",
  "STOP ALL",
  "UNSUBSCRIBE",
  "CANCEL",
  "END",
  "QUIT",
  "OPTOUT",
  "REVOKE",
]);
export const START_WORDS = new Set(["START", "UNSTOP", "YES"]);

/** "stop", "start", or null for any other reply. */
export function consentReply(body: string): "stop" | "start" | null {
  const word = body
    .trim()
    .replace(/[.!]+$/, "")
    .replace(/\s+/g, " ")
    .toUpperCase();
  if (STOP_WORDS.has(word)) return "stop";
  if (START_WORDS.has(word)) return "start";
  return null;
}

function signedString(url: string, params: Record<string, string>): string {
  return (
    url +
    Object.keys(params)
      .sort()
      .map((k) => `${k}${params[k]}`)
      .join("")
  );
}

async function hmacSha1(secret: string, text: string): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey(
    "raw",
    enc.encode(secret),
    { name: "HMAC", hash: "SHA-1" },
    false,
    ["sign"],
  );
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(text)));
}

/** The signature Twilio would send for this request (for tests and for the local fake). */
export async function twilioSignature(authToken: string, url: string, params: Record<string, string>) {
  return btoa(String.fromCharCode(...(await hmacSha1(authToken, signedString(url, params)))));
}

/** True when `signature` is Twilio's signature of (`url`, `params`) under `authToken`. */
export async function verifyTwilioSignature(
  authToken: string,
  url: string,
  params: Record<string, string>,
  signature: string | null | undefined,
): Promise<boolean> {
  if (!authToken || !signature) return false;
  const expected = await twilioSignature(authToken, url, params);
  if (expected.length !== signature.length) return false;
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ signature.charCodeAt(i);
  return diff === 0;
}
