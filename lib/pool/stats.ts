import type { Ctx } from "../context";
import { metrics } from "../metrics";
import { appKeys } from "../store/keys";

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

/** Pool figures per app and in total; `capacity` is the most instances an app may hold at once (POOL_MAX_SIZE). */
export async function poolStats(ctx: Ctx) {
  const slugs = (await ctx.redis.smembers(ctx.keys.apps)).sort();
  const pipeline = ctx.redis.pipeline();
  for (const slug of slugs) {
    const keys = appKeys(ctx.config.VALKEY_PREFIX, slug);
    pipeline.llen(keys.ready).scard(keys.warming).zcard(keys.expiry).hmget(keys.cfg, "pool_target", "pool_max");
    pipeline.hmget(keys.health, "consecutive_failures", "last_error");
  }
  const replies = (await pipeline.exec()) ?? [];
  const apps: AppStats[] = [];
  slugs.forEach((slug, index) => {
    const at = (offset: number) => replies[index * 5 + offset]?.[1];
    const [target, max] = at(3) as (string | null)[];
    if (target === null) return; // deleted, still draining
    const [failures, lastError] = at(4) as (string | null)[];
    apps.push({
      app: slug,
      ready: Number(at(0)),
      warming: Number(at(1)),
      assigned: Number(at(2)),
      target: Number(target),
      capacity: Number(max),
      consecutive_failures: Number(failures ?? 0),
      last_error: lastError,
    });
  });
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
