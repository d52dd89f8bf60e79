import type { AppSpec } from "../app-spec";
import { mirrorApp } from "../apps/mirror";
import { specFromRow } from "../apps/model";
import type { Ctx } from "../context";
import { activeKeyRows } from "../db/api-keys";
import { listAppRows } from "../db/apps";
import { syncKeyMirror } from "../keys/mirror";
import { drainApp } from "./drain";

/**
 * Level-triggered sync of MariaDB into the Redis mirrors the web reads: every app's settings and the
 * active API keys. Apps whose row is gone are drained. Returns the apps, for the other loops.
 */
export async function syncApps(ctx: Ctx): Promise<AppSpec[]> {
  const readAtMs = ctx.clock.now();
  await syncKeyMirror(ctx, await activeKeyRows(ctx.db), readAtMs);
  const specs = (await listAppRows(ctx.db)).map(specFromRow);
  await Promise.all(specs.map((spec) => mirrorApp(ctx, spec)));
  const known = new Set(specs.map((spec) => spec.slug));
  for (const slug of await ctx.redis.smembers(ctx.keys.apps)) if (!known.has(slug)) await drainApp(ctx, slug);
  return specs;
}
