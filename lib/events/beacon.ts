import { isbot } from "isbot";
import { z } from "zod";
import { Slug } from "../app-spec";
import type { Ctx } from "../context";
import { AppError } from "../errors";
import { type Actor, mayUseApp } from "../keys/authenticate";
import { metrics } from "../metrics";
import { clientKey } from "../net/address";
import { windowCountScript } from "../store/scripts";
import { emitEvent } from "./publish";

/** A beacon is a few hundred bytes; anything near this is not one. */
export const BEACON_MAX_BYTES = 2048;
const MINUTE_MS = 60_000;

export const BeaconInput = z
  .object({
    type: z.enum(["impression", "click"]),
    app: Slug,
    /** The host page's address; only its path and `utm_*` parameters are kept. */
    page: z.string().max(1024).optional(),
    /** The host page's referrer; only its origin is kept. */
    referrer: z.string().max(1024).optional(),
  })
  .strict();
export type BeaconInput = z.infer<typeof BeaconInput>;

/** Path and `utm_*` parameters of a page address; no other query (it may carry a visitor's data). */
export function pageOf(address: string | undefined): string | null {
  if (!address) return null;
  try {
    const url = new URL(address);
    if (url.protocol !== "http:" && url.protocol !== "https:") return null;
    const utm = [...url.searchParams].filter(([name]) => /^utm_[a-z]{1,20}$/.test(name));
    const query = new URLSearchParams(utm).toString();
    return `${url.pathname}${query ? `?${query}` : ""}`.slice(0, 512);
  } catch {
    return null;
  }
}

/** The origin of a referrer address, or null. */
export function referrerOrigin(address: string | undefined): string | null {
  if (!address) return null;
  try {
    const url = new URL(address);
    return url.protocol === "http:" || url.protocol === "https:" ? url.origin : null;
  } catch {
    return null;
  }
}

/**
 * An impression or click from the embed (ARCHITECTURE.md, "Funnel analytics"). The route has checked
 * the key and its origin; here: the key's apps, the app's existence, the client's per-minute limit,
 * and bots (their beacons are answered like any other and not counted). Returns whether it counted.
 */
export async function recordBeacon(
  ctx: Ctx,
  input: BeaconInput & { actor: Actor; clientIp: string; userAgent: string | null; requestId: string },
): Promise<boolean> {
  // Another tenant's app is answered as one that does not exist.
  if (!mayUseApp(input.actor, input.app)) throw new AppError("NOT_FOUND", `no app "${input.app}"`);
  const minute = Math.floor(ctx.clock.now() / MINUTE_MS);
  const [count, exists] = await Promise.all([
    windowCountScript.run(
      ctx.redis,
      { counter: ctx.keys.beacons(clientKey(input.clientIp, ctx.config.IPV6_PREFIX_LENGTH), minute) },
      { windowMs: MINUTE_MS },
    ),
    ctx.redis.exists(ctx.keys.app(input.app).cfg),
  ]);
  const limit = ctx.config.BEACON_RATE_PER_MINUTE;
  if (limit > 0 && count > limit) {
    metrics.beacons.inc({ outcome: "limited" });
    throw new AppError("RATE_LIMITED", `at most ${limit} beacons a minute from one address`, {
      retryAfterSeconds: Math.max(1, Math.ceil(((minute + 1) * MINUTE_MS - ctx.clock.now()) / 1000)),
    });
  }
  if (!exists) throw new AppError("NOT_FOUND", `no app "${input.app}"`);
  if (isbot(input.userAgent ?? "")) {
    metrics.beacons.inc({ outcome: "bot" });
    return false;
  }
  const data: Record<string, string> = {};
  const page = pageOf(input.page);
  const referrer = referrerOrigin(input.referrer);
  if (page) data.page = page;
  if (referrer) data.referrer = referrer;
  emitEvent(ctx, { type: input.type, app: input.app, requestId: input.requestId, clientIp: input.clientIp, data });
  metrics.beacons.inc({ outcome: "counted" });
  return true;
}
