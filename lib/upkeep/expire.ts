import { publishCleanup } from "../bus/jobs";
import type { Ctx } from "../context";
import { emitEvent } from "../events/publish";
import { metrics } from "../metrics";
import { expireScript } from "../store/scripts";
import { cleanupInstance } from "./cleanup";

/**
 * Expires assigned instances of an app whose time has passed (atomic: each id is returned to one
 * caller only) and puts a cleanup job on the bus for each. When the bus is down, this worker cleans
 * them up itself. Returns how many expired.
 */
export async function expireDue(ctx: Ctx, app: string, batch = 100): Promise<number> {
  const keys = ctx.keys.app(app);
  const expired = await expireScript.run(
    ctx.redis,
    { expiry: keys.expiry, trail: keys.trail },
    { nowMs: ctx.clock.now(), batch, instPrefix: keys.instPrefix, channel: ctx.keys.events },
  );
  if (!expired.length) return 0;
  metrics.expired.inc({ app }, expired.length);
  for (const id of expired) emitEvent(ctx, { type: "expired", app, instance: id });
  await Promise.all(
    expired.map((id) =>
      publishCleanup(ctx, { id, app, reason: "expired", request_id: null }).catch(async (error: Error) => {
        ctx.log.warn({ app, instance: id, err: error.message }, "cleanup job not published; cleaning up here");
        await cleanupInstance(ctx, id).catch((cleanupError: Error) =>
          ctx.log.warn({ app, instance: id, err: cleanupError.message }, "cleanup failed; the reconciler will retry"),
        );
      }),
    ),
  );
  return expired.length;
}
