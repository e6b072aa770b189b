/** Webhook signature checks with Web Crypto (runs on Node and Workers). `subtle.verify` compares in constant time. */
const enc = new TextEncoder();

function base64ToBytes(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return undefined;
  return new Uint8Array(Buffer.from(text, "base64")) as Uint8Array<ArrayBuffer>;
}

/** True when `signatureB64` is the base64 HMAC-SHA256 of `rawBody` under `secret`. */
export async function verifyHmacSha256Base64(
  secret: string,
  rawBody: string,
  signatureB64: string | null | undefined,
) {
  if (!signatureB64 || !secret) return false;
  const sig = base64ToBytes(signatureB64.trim());
  if (sig?.length !== 32) return false;
  const key = await crypto.subtle.importKey(
    "raw",
    enc.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["verify"],
  );
  return crypto.subtle.verify("HMAC", key, sig, enc.encode(rawBody));
}

/** The base64 HMAC-SHA256 of `body` (for tests and for signing our own links). */
export async function signHmacSha256Base64(secret: string, body: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    enc.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return Buffer.from(await crypto.subtle.sign("HMAC", key, enc.encode(body))).toString("base64");
}
