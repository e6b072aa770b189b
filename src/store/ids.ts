import { randomBytes } from "node:crypto";

export type IdPrefix = "org" | "conn" | "cus" | "inv" | "pay" | "cn" | "aud" | "qr" | "rem" | "usr";

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

/** A prefixed random id (`inv_9k2m...`) so that logs read themselves. 80 bits of randomness. */
export function newId(prefix: IdPrefix): string {
  const bytes = randomBytes(16);
  let out = `${prefix}_`;
  for (let i = 0; i < 16; i++) out += ALPHABET[bytes[i]! & 31];
  return out;
}
