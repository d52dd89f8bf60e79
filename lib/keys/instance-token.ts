import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Ctx } from "../context";

let secret: Promise<string> | undefined;

/** AUTH_SECRET, or else one random secret shared by every process through Redis (set once). */
function tokenSecret(ctx: Ctx): Promise<string> {
  if (ctx.config.AUTH_SECRET) return Promise.resolve(ctx.config.AUTH_SECRET);
  secret ??= (async () => {
    await ctx.redis.set(ctx.keys.tokenSecret, randomBytes(32).toString("base64url"), "NX");
    const value = await ctx.redis.get(ctx.keys.tokenSecret);
    if (!value) throw new Error("token secret missing");
    return value;
  })().catch((error) => {
    secret = undefined;
    throw error;
  });
  return secret;
}

/** The bearer proof a browser holds for one instance: HMAC of its id, so nothing is stored. */
export async function instanceToken(ctx: Ctx, id: string): Promise<string> {
  return createHmac("sha256", await tokenSecret(ctx)).update(`instance:${id}`).digest("base64url");
}

export async function verifyInstanceToken(ctx: Ctx, id: string, presented: string | null): Promise<boolean> {
  if (!presented) return false;
  const expected = Buffer.from(await instanceToken(ctx, id));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
