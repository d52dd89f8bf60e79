import type { Ctx } from "../context";
import { metrics } from "../metrics";
import { appKeys } from "../store/keys";
import { runScript } from "../store/redis";
import { cleanupInstance } from "./cleanup";
import { readTrashEntry, trashEntry } from "./trash";

/**
 * Expires assigned instances of an app whose time has passed (atomic: each id is returned to one
 * caller only), then removes their containers and routes. Also empties the app's cleanup queue of
 * released instances. Returns how many instances were cleaned up.
 */
export async function expireDue(ctx: Ctx, app: string, batch = 100): Promise<number> {
  const keys = appKeys(ctx.config.VALKEY_PREFIX, app);
  const expired = await runScript<string[]>(ctx.redis, "tinExpire", [keys.expiry], [Date.now(), batch, keys.instPrefix, ctx.keys.events]);
  if (expired.length) metrics.expired.inc({ app }, expired.length);
  const released = ((await ctx.redis.lpop(keys.trash, batch)) ?? []).map(readTrashEntry);
  metrics.cleanupQueue.set({ app }, await ctx.redis.llen(keys.trash));
  const jobs = [...expired.map((id) => ({ id, requestId: null as string | null, reason: "expired" })), ...released.map((r) => ({ ...r, reason: "released" }))];
  const results = await Promise.allSettled(jobs.map((job) => cleanupInstance(ctx, job.id)));
  let failed = 0;
  for (const [index, job] of jobs.entries()) {
    const result = results[index];
    const line = { app, instance: job.id, reason: job.reason, requestId: job.requestId };
    if (result.status === "fulfilled") ctx.log.info(line, "instance destroyed");
    else {
      failed += 1;
      ctx.log.warn({ ...line, err: (result.reason as Error).message }, "cleanup failed; queued again");
      // Back on the queue; the reconciler is the last resort.
      await ctx.redis.rpush(keys.trash, trashEntry(job.id, job.requestId));
    }
  }
  return jobs.length - failed;
}
