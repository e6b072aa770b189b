/**
 * Sealing of secrets at rest (OAuth token sets) with AES-256-GCM through Web Crypto, so the same code runs on
 * Node and Workers. A sealed value is `v1.<iv>.<ciphertext>` in base64url; the key comes from config.
 */
const enc = new TextEncoder();
const dec = new TextDecoder();

function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64url");
}

function fromB64url(text: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.from(text, "base64url")) as Uint8Array<ArrayBuffer>;
}

export interface Sealer {
  seal(plaintext: string): Promise<string>;
  unseal(sealed: string): Promise<string>;
}

export async function createSealer(rawKey: Uint8Array<ArrayBuffer>): Promise<Sealer> {
  const key = await crypto.subtle.importKey("raw", rawKey, "AES-GCM", false, ["encrypt", "decrypt"]);
  return {
    async seal(plaintext) {
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const ct = new Uint8Array(
        await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, enc.encode(plaintext)),
      );
      return `v1.${b64url(iv)}.${b64url(ct)}`;
    },
    async unseal(sealed) {
      const [version, iv, ct] = sealed.split(".");
      if (version !== "v1" || !iv || !ct) throw new Error("sealed value has an unknown format");
      const pt = await crypto.subtle.decrypt({ name: "AES-GCM", iv: fromB64url(iv) }, key, fromB64url(ct));
      return dec.decode(pt);
    },
  };
}

/** A sealer keyed by SHA-256 of the install secret, so any secret text of 32+ characters works. */
export async function sealerFromSecret(secret: string): Promise<Sealer> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", enc.encode(`creditpulse-seal|${secret}`)),
  );
  return createSealer(digest as Uint8Array<ArrayBuffer>);
}
