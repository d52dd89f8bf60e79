import type { Ctx } from "../context";
import { appKeys } from "../store/keys";
import { runScript } from "../store/redis";
import { cleanupInstance } from "./cleanup";
import { readTrashEntry } from "./trash";

/** Removes every instance of a deleted app: records at once (one script), then containers and routes. */
export async function drainApp(ctx: Ctx, app: string): Promise<number> {
  const keys = appKeys(ctx.config.VALKEY_PREFIX, app);
  const ids = await runScript<string[]>(ctx.redis, "tinDrain", [keys.ready, keys.warming, keys.expiry, keys.cfg], [keys.instPrefix, ctx.keys.events]);
  const queued = ((await ctx.redis.lrange(keys.trash, 0, -1)) ?? []).map((entry) => readTrashEntry(entry).id);
  await Promise.allSettled([...ids, ...queued].map((id) => cleanupInstance(ctx, id)));
  await ctx.redis.pipeline().del(keys.trash, keys.health).srem(ctx.keys.apps, app).exec();
  ctx.log.info({ app, instances: ids.length }, "drained deleted app");
  return ids.length;
}
