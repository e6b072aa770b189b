import { randomFillSync } from "node:crypto";

export type IdPrefix =
  | "org"
  | "upl"
  | "conn"
  | "cus"
  | "inv"
  | "pay"
  | "cn"
  | "aud"
  | "qr"
  | "rem"
  | "eml"
  | "pol"
  | "hld"
  | "usr"
  | "ses"
  | "tok"
  | "pau"
  | "dsp"
  | "hpr"
  | "stm"
  | "chg"
  | "sms";

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";
const POOL = new Uint8Array(4096);
let offset = POOL.length;

/** A prefixed random id (`inv_9k2m...`) so that logs read themselves. 80 bits of randomness. */
export function newId(prefix: IdPrefix): string {
  if (offset + 16 > POOL.length) {
    randomFillSync(POOL);
    offset = 0;
  }
  let out = `${prefix}_`;
  for (let i = 0; i < 16; i++) out += ALPHABET[POOL[offset + i]! & 31];
  offset += 16;
  return out;
}
