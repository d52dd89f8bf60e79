import { publishCleanup } from "../bus/jobs";
import type { Ctx } from "../context";
import { notFound } from "../errors";
import { emitEvent } from "../events/publish";
import type { Actor } from "../keys/authenticate";
import { metrics } from "../metrics";
import { locate } from "./locate";
import { removeRecord } from "./remove";

/**
 * Ends a visitor's instance now. The record leaves every list at once (a second call is 404); a
 * cleanup job goes on the bus, off the request path, for a worker to remove the container and route.
 * When the bus is down the answer is the same: the reconciler removes a container whose record is
 * gone within RECONCILE_INTERVAL (ARCHITECTURE.md, "NATS").
 */
export async function release(ctx: Ctx, id: string, actor: Actor, requestId: string) {
  const { app, keys } = await locate(ctx, id, actor);
  const state = await removeRecord(ctx, keys, id, { expected: "assigned", event: "released", nowMs: ctx.clock.now() });
  if (!state) throw notFound();
  // Not awaited: a pointer left behind (an outage between the two) leads to a record that is gone,
  // which every verb answers 404 as it would without it; the answer does not wait for a third round trip.
  ctx.redis.del(ctx.keys.loc(id)).catch(() => undefined);
  metrics.released.inc({ app });
  emitEvent(ctx, { type: "released", app, instance: id, requestId });
  publishCleanup(ctx, { id, app, reason: "released", request_id: requestId }).catch((error: Error) =>
    ctx.log.warn(
      { instance: id, app, requestId, err: error.message },
      "cleanup job not published; the reconciler will remove the container",
    ),
  );
  return { id, status: "released" as const, message: "instance released; it is being destroyed" };
}
