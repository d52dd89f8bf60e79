import type { Caller } from "../audit/model";
import type { Ctx } from "../context";
import { mayUseApp } from "../keys/authenticate";
import { metrics } from "../metrics";
import { readPoolLevels } from "../store/pool-levels";

export interface AppStats {
  app: string;
  ready: number;
  warming: number;
  assigned: number;
  target: number;
  capacity: number;
  consecutive_failures: number;
  last_error: string | null;
}

/** Pool figures per app and in total (over the caller's apps); `capacity` is the most instances an app may hold at once (pool_max). */
export async function poolStats(ctx: Ctx, caller: Pick<Caller, "apps">) {
  const slugs = (await ctx.redis.smembers(ctx.keys.apps)).filter((slug) => mayUseApp(caller, slug)).sort();
  const levels = await readPoolLevels(
    ctx.redis,
    slugs.map((slug) => ctx.keys.app(slug)),
  );
  const apps: AppStats[] = [];
  for (const level of levels) {
    if (!level.sizing) continue; // deleted, still draining
    apps.push({
      app: level.app,
      ready: level.ready,
      warming: level.warming,
      assigned: level.assigned,
      target: level.sizing.target,
      capacity: level.sizing.max,
      consecutive_failures: level.health.consecutiveFailures,
      last_error: level.health.lastError,
    });
  }
  for (const stats of apps) {
    for (const state of ["ready", "warming", "assigned"] as const) metrics.pool.set({ app: stats.app, state }, stats[state]);
  }
  const sum = (field: "ready" | "warming" | "assigned" | "target" | "capacity") =>
    apps.reduce((total, stats) => total + stats[field], 0);
  return {
    ready: sum("ready"),
    assigned: sum("assigned"),
    warming: sum("warming"),
    target: sum("target"),
    capacity: sum("capacity"),
    apps,
  };
}
