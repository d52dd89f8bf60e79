import { createHmac, timingSafeEqual } from "node:crypto";
import type { Ctx } from "../context";
import { derivedKey } from "../secrets";

type TokenPurpose = "instance-token" | "conversion";

async function sign(ctx: Ctx, purpose: TokenPurpose, message: string): Promise<string> {
  return createHmac("sha256", await derivedKey(ctx, purpose))
    .update(message)
    .digest("base64url");
}

function matches(expected: string, presented: string | null): boolean {
  if (!presented) return false;
  const want = Buffer.from(expected);
  const given = Buffer.from(presented);
  return given.length === want.length && timingSafeEqual(given, want);
}

/**
 * The bearer proof a browser holds for one instance: HMAC of its id under the instance-token key
 * derived from the deployment's secret, so nothing is stored.
 */
export async function instanceToken(ctx: Ctx, id: string): Promise<string> {
  return sign(ctx, "instance-token", `instance:${id}`);
}

export async function verifyInstanceToken(ctx: Ctx, id: string, presented: string | null): Promise<boolean> {
  return matches(await instanceToken(ctx, id), presented);
}

/**
 * What an instance's own container holds to report its conversions (`TRYIT_CONVERT_TOKEN`,
 * ARCHITECTURE.md, "Funnel analytics"): under a key of its own purpose, so it opens nothing but
 * `convert` of that one instance — not its status, extension or release.
 */
export async function conversionToken(ctx: Ctx, id: string): Promise<string> {
  return sign(ctx, "conversion", `conversion:${id}`);
}

export async function verifyConversionToken(ctx: Ctx, id: string, presented: string | null): Promise<boolean> {
  return matches(await conversionToken(ctx, id), presented);
}
