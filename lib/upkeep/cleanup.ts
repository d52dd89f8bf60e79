import type { Ctx } from "../context";
import { dropInstanceDatabase } from "../demo-db/drop";
import { demoDbConfigured } from "../demo-db/server";
import { metrics } from "../metrics";

/**
 * Removes everything an instance had outside its Redis record: egress map entries, route, container, id
 * lookup, database.
 * Idempotent, so a retried job, a drain and the reconciler may all call it for the same id.
 */
export async function cleanupInstance(ctx: Ctx, id: string): Promise<void> {
  try {
    // Its address leaves the egress maps before the container goes, so a container that gets the
    // address next never inherits this one's policy.
    await ctx.egress.forget(await ctx.runtime.addressOf(id));
    await Promise.all([ctx.routes.remove(id), ctx.runtime.remove(id), ctx.redis.del(ctx.keys.loc(id))]);
    // After the container: its connections end with it. A failure here only waits for the reconciler.
    if (demoDbConfigured(ctx.config))
      await dropInstanceDatabase(ctx, id).catch((error) =>
        ctx.log.warn(
          { instance: id, err: (error as Error).message },
          "dropping the instance's database failed; the reconciler will retry",
        ),
      );
    metrics.cleanups.inc({ outcome: "ok" });
  } catch (error) {
    metrics.cleanups.inc({ outcome: "error" });
    throw error;
  }
}
