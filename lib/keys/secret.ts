import { createHash, randomBytes } from "node:crypto";

export const KEY_PREFIX = { secret: "tin_sk_", publishable: "tin_pk_" } as const;

/** A new key: 256 random bits after a readable prefix. Shown once; only its SHA-256 is stored. */
export function newKey(kind: keyof typeof KEY_PREFIX): { key: string; prefix: string; hash: string } {
  const key = `${KEY_PREFIX[kind]}${randomBytes(32).toString("base64url")}`;
  return { key, prefix: key.slice(0, 12), hash: hashKey(key) };
}

/** A key's SHA-256: what is stored, in hex (`hashKey`). */
export function keyDigest(key: string): Buffer {
  return createHash("sha256").update(key).digest();
}

export function hashKey(key: string): string {
  return keyDigest(key).toString("hex");
}
