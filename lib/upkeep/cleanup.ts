import type { Ctx } from "../context";
import { metrics } from "../metrics";

/**
 * Removes everything an instance had outside its Redis record: route, container, id lookup.
 * Idempotent, so a retried job, a drain and the reconciler may all call it for the same id.
 */
export async function cleanupInstance(ctx: Ctx, id: string): Promise<void> {
  try {
    await Promise.all([ctx.routes.remove(id), ctx.runtime.remove(id), ctx.redis.del(ctx.keys.loc(id))]);
    metrics.cleanups.inc({ outcome: "ok" });
  } catch (error) {
    metrics.cleanups.inc({ outcome: "error" });
    throw error;
  }
}
