import type { Ctx } from "../context";
import { metrics } from "../metrics";
import { parseJson, TrashEntry } from "../store/messages";
import { expireScript } from "../store/scripts";
import { cleanupInstance } from "./cleanup";

/**
 * Expires assigned instances of an app whose time has passed (atomic: each id is returned to one
 * caller only), then removes their containers and routes. Also empties the app's cleanup queue of
 * released instances. Returns how many instances were cleaned up.
 */
export async function expireDue(ctx: Ctx, app: string, batch = 100): Promise<number> {
  const keys = ctx.keys.app(app);
  const expired = await expireScript.run(
    ctx.redis,
    { expiry: keys.expiry },
    { nowMs: Date.now(), batch, instPrefix: keys.instPrefix, channel: ctx.keys.events },
  );
  if (expired.length) metrics.expired.inc({ app }, expired.length);
  const released: TrashEntry[] = [];
  for (const raw of (await ctx.redis.lpop(keys.trash, batch)) ?? []) {
    const entry = parseJson(TrashEntry, raw);
    // Its record is gone, so the reconciler removes its container and route as an orphan.
    if (entry) released.push(entry);
    else ctx.log.warn({ app, entry: raw.slice(0, 200) }, "malformed cleanup entry dropped; the reconciler removes what it named");
  }
  metrics.cleanupQueue.set({ app }, await ctx.redis.llen(keys.trash));
  const jobs = [
    ...expired.map((id) => ({ id, request_id: null as string | null, reason: "expired" })),
    ...released.map((entry) => ({ ...entry, reason: "released" })),
  ];
  const results = await Promise.allSettled(jobs.map((job) => cleanupInstance(ctx, job.id)));
  let failed = 0;
  for (const [index, job] of jobs.entries()) {
    const result = results[index];
    const line = { app, instance: job.id, reason: job.reason, requestId: job.request_id };
    if (result.status === "fulfilled") ctx.log.info(line, "instance destroyed");
    else {
      failed += 1;
      ctx.log.warn({ ...line, err: (result.reason as Error).message }, "cleanup failed; queued again");
      // Back on the queue; the reconciler is the last resort.
      const entry: TrashEntry = { id: job.id, request_id: job.request_id };
      await ctx.redis.rpush(keys.trash, JSON.stringify(entry));
    }
  }
  return jobs.length - failed;
}
