import { randomBytes } from "node:crypto";

const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";

/** 20 lowercase base32 characters = 100 random bits: unguessable and usable as a DNS label. */
export function newInstanceId(): string {
  const bytes = randomBytes(13);
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < 20) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

export const INSTANCE_ID = /^[a-z2-7]{20}$/;

/** Record ids with a readable prefix: `app_…`, `key_…`. */
export function newRecordId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString("base64url")}`;
}
