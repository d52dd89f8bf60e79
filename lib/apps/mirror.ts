import type { AppSpec } from "../app-spec";
import type { Ctx } from "../context";

/**
 * Mirrors the settings the acquire script needs into Redis (`tin:{app}:cfg`), so acquire never
 * reads MariaDB. The worker re-mirrors every app on each sync, so the mirror heals itself.
 */
export async function mirrorApp(ctx: Ctx, spec: AppSpec): Promise<void> {
  const keys = ctx.keys.app(spec.slug);
  await ctx.redis
    .pipeline()
    .hset(keys.cfg, {
      default_ttl_ms: spec.defaultTtlSeconds * 1000,
      max_ttl_ms: spec.maxTtlSeconds * 1000,
      rl_hourly: spec.rateLimitHourly ?? -1,
      rl_daily: spec.rateLimitDaily ?? -1,
      admin_path: spec.adminPath,
      pool_target: spec.poolTarget,
      pool_min: spec.poolMin,
      pool_max: spec.poolMax,
      paused: spec.paused ? 1 : 0,
      launch_page: spec.launchPage ? 1 : 0,
      extend_ms: spec.extendMinutes * 60_000,
      max_lifetime_ms: spec.maxLifetimeSeconds * 1000,
      max_extensions: spec.maxExtensions,
      cta_label: spec.ctaLabel,
      cta_url: spec.ctaUrl,
      acquire_rate: spec.acquireRate ?? 0,
      bot_gate: spec.botGate,
      gate_difficulty: spec.gateDifficulty,
      extend_visit: spec.extendRequiresVisit ? 1 : 0,
    })
    .sadd(ctx.keys.apps, spec.slug)
    .exec();
}

/** Stops acquires for a deleted app at once; the worker drains its instances. */
export async function unmirrorApp(ctx: Ctx, slug: string): Promise<void> {
  await ctx.redis.del(ctx.keys.app(slug).cfg);
}
