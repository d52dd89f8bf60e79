import { createHmac, timingSafeEqual } from "node:crypto";
import type { Ctx } from "../context";
import { derivedKey } from "../secrets";

/**
 * The bearer proof a browser holds for one instance: HMAC of its id under the instance-token key
 * derived from the deployment's secret, so nothing is stored.
 */
export async function instanceToken(ctx: Ctx, id: string): Promise<string> {
  return createHmac("sha256", await derivedKey(ctx, "instance-token"))
    .update(`instance:${id}`)
    .digest("base64url");
}

export async function verifyInstanceToken(ctx: Ctx, id: string, presented: string | null): Promise<boolean> {
  if (!presented) return false;
  const expected = Buffer.from(await instanceToken(ctx, id));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
