import type { AppSpec } from "../app-spec";
import type { Ctx } from "../context";
import { encodeCfg } from "../store/hashes";

/**
 * Mirrors the settings the scripts need into Redis (`tin:{app}:cfg`, the fields marked `mirror` in
 * lib/app-spec.ts), so acquire never reads MariaDB. The worker re-mirrors every app on each sync, so the mirror heals itself.
 */
export async function mirrorApp(ctx: Ctx, spec: AppSpec): Promise<void> {
  const keys = ctx.keys.app(spec.slug);
  await ctx.redis.pipeline().hset(keys.cfg, encodeCfg(spec)).sadd(ctx.keys.apps, spec.slug).exec();
}

/** Stops acquires for a deleted app at once; the worker drains its instances. */
export async function unmirrorApp(ctx: Ctx, slug: string): Promise<void> {
  await ctx.redis.del(ctx.keys.app(slug).cfg);
}
