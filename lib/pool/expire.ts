import type { Ctx } from "../context";
import { metrics } from "../metrics";
import { appKeys } from "../store/keys";
import { runScript } from "../store/redis";
import { cleanupInstance } from "./cleanup";

/**
 * Expires assigned instances of an app whose time has passed (atomic: each id is returned to one
 * caller only), then removes their containers and routes. Also empties the app's cleanup queue of
 * released instances. Returns how many instances were cleaned up.
 */
export async function expireDue(ctx: Ctx, app: string, batch = 100): Promise<number> {
  const keys = appKeys(ctx.config.VALKEY_PREFIX, app);
  const expired = await runScript<string[]>(ctx.redis, "tinExpire", [keys.expiry], [Date.now(), batch, keys.instPrefix, ctx.keys.events]);
  if (expired.length) metrics.expired.inc({ app }, expired.length);
  const released = (await ctx.redis.lpop(keys.trash, batch)) ?? [];
  const ids = [...expired, ...released];
  const results = await Promise.allSettled(ids.map((id) => cleanupInstance(ctx, id)));
  const failed = ids.filter((_, index) => results[index].status === "rejected");
  // Put failed cleanups back on the queue; the reconciler is the last resort.
  if (failed.length) await ctx.redis.rpush(keys.trash, ...failed);
  if (ids.length) ctx.log.info({ app, expired: expired.length, released: released.length, failed: failed.length }, "reaped");
  return ids.length - failed.length;
}
