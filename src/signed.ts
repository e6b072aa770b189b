/**
 * Signed, expiring tokens for URLs and forms (OAuth `state`, links in emails): `payload.expiry.signature`,
 * HMAC-SHA256 under the install secret, compared in constant time by Web Crypto.
 */
const enc = new TextEncoder();

async function key(secret: string, usage: "sign" | "verify") {
  return crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    usage,
  ]);
}

const b64u = (bytes: ArrayBuffer | Uint8Array) => Buffer.from(bytes as ArrayBuffer).toString("base64url");

/** Signs `payload` (any JSON) for `purpose` until `expiresAt` (epoch ms). */
export async function signToken(
  secret: string,
  purpose: string,
  payload: unknown,
  expiresAt: number,
): Promise<string> {
  const body = `${b64u(enc.encode(JSON.stringify(payload)))}.${expiresAt.toString(36)}`;
  const sig = await crypto.subtle.sign("HMAC", await key(secret, "sign"), enc.encode(`${purpose}|${body}`));
  return `${body}.${b64u(sig)}`;
}

export type VerifyResult<T> =
  | { ok: true; payload: T }
  | { ok: false; reason: "malformed" | "bad_signature" | "expired" };

/** Checks a token made by signToken for the same purpose; never throws. */
export async function verifyToken<T>(
  secret: string,
  purpose: string,
  token: string,
  now: number,
): Promise<VerifyResult<T>> {
  const parts = token.split(".");
  if (parts.length !== 3) return { ok: false, reason: "malformed" };
  const [payload, expiry, sig] = parts as [string, string, string];
  let sigBytes: Uint8Array<ArrayBuffer>;
  try {
    sigBytes = new Uint8Array(Buffer.from(sig, "base64url")) as Uint8Array<ArrayBuffer>;
  } catch {
    return { ok: false, reason: "malformed" };
  }
  const valid = await crypto.subtle.verify(
    "HMAC",
    await key(secret, "verify"),
    sigBytes,
    enc.encode(`${purpose}|${payload}.${expiry}`),
  );
  if (!valid) return { ok: false, reason: "bad_signature" };
  if (Number.parseInt(expiry, 36) < now) return { ok: false, reason: "expired" };
  try {
    return { ok: true, payload: JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as T };
  } catch {
    return { ok: false, reason: "malformed" };
  }
}
