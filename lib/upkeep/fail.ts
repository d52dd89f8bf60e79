import type { Ctx } from "../context";
import { emitEvent } from "../events/publish";
import { metrics } from "../metrics";
import { removeRecord } from "../pool/remove";
import { recordFailure } from "../store/history";
import { cleanupInstance } from "./cleanup";

/**
 * An instance whose container was OOM-killed or died: reported (log, metric), taken out of the pool
 * (a visitor's countdown ends with `expired`) and destroyed; replenish makes its replacement.
 * A container we removed ourselves has no record any more, so its `die` changes nothing.
 */
export async function failInstance(ctx: Ctx, app: string, id: string, reason: "oom" | "die"): Promise<boolean> {
  const state = await removeRecord(ctx, ctx.keys.app(app), id, { event: "expired" });
  if (!state) return false;
  metrics.failed.inc({ app, reason });
  if (state === "assigned") emitEvent(ctx, { type: "failed", app, instance: id, data: { reason } });
  ctx.log.warn({ app, instance: id, reason, state }, "instance failed; replacing it");
  await recordFailure(ctx, { app, instance: id, reason, error: reason === "oom" ? "out of memory" : "container exited" });
  await cleanupInstance(ctx, id);
  return true;
}
