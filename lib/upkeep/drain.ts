import type { Ctx } from "../context";
import { parseJson, TrashEntry } from "../store/messages";
import { drainScript } from "../store/scripts";
import { cleanupInstance } from "./cleanup";

/** Removes every instance of a deleted app: records at once (one script), then containers and routes. */
export async function drainApp(ctx: Ctx, app: string): Promise<number> {
  const keys = ctx.keys.app(app);
  const ids = await drainScript.run(
    ctx.redis,
    { ready: keys.ready, warming: keys.warming, expiry: keys.expiry, cfg: keys.cfg },
    { instPrefix: keys.instPrefix, channel: ctx.keys.events },
  );
  const queued = (await ctx.redis.lrange(keys.trash, 0, -1)).flatMap((entry) => parseJson(TrashEntry, entry)?.id ?? []);
  await Promise.allSettled([...ids, ...queued].map((id) => cleanupInstance(ctx, id)));
  await ctx.redis.pipeline().del(keys.trash, keys.health).srem(ctx.keys.apps, app).exec();
  ctx.log.info({ app, instances: ids.length }, "drained deleted app");
  return ids.length;
}
