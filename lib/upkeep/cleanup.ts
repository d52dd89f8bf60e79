import type { Ctx } from "../context";
import { metrics } from "../metrics";

/**
 * Removes everything an instance had outside its Redis record: egress map entries, route, container, id lookup.
 * Idempotent, so a retried job, a drain and the reconciler may all call it for the same id.
 */
export async function cleanupInstance(ctx: Ctx, id: string): Promise<void> {
  try {
    // Its address leaves the egress maps before the container goes, so a container that gets the
    // address next never inherits this one's policy.
    await ctx.egress.forget(await ctx.runtime.addressOf(id));
    await Promise.all([ctx.routes.remove(id), ctx.runtime.remove(id), ctx.redis.del(ctx.keys.loc(id))]);
    metrics.cleanups.inc({ outcome: "ok" });
  } catch (error) {
    metrics.cleanups.inc({ outcome: "error" });
    throw error;
  }
}
