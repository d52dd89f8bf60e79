import { flushTrail } from "../abuse/trail";
import type { Ctx } from "../context";
import { drainScript } from "../store/scripts";
import { cleanupInstance } from "./cleanup";

/** Removes every instance of a deleted app: records at once (one script), then containers and routes. */
export async function drainApp(ctx: Ctx, app: string): Promise<number> {
  const keys = ctx.keys.app(app);
  const ids = await drainScript.run(
    ctx.redis,
    { ready: keys.ready, warming: keys.warming, expiry: keys.expiry, cfg: keys.cfg, trail: keys.trail },
    { instPrefix: keys.instPrefix, channel: ctx.keys.events },
  );
  await Promise.allSettled(ids.map((id) => cleanupInstance(ctx, id)));
  // The app leaves the set of apps below, so its last trail entries go to MariaDB now (a failure
  // leaves it in the set: the next drain tries again).
  await flushTrail(ctx, app);
  await ctx.redis.pipeline().del(keys.health).srem(ctx.keys.apps, app).exec();
  ctx.log.info({ app, instances: ids.length }, "drained deleted app");
  return ids.length;
}
