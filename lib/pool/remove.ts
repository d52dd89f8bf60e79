import type { Ctx } from "../context";
import type { AppKeys } from "../store/keys";
import { runScript } from "../store/redis";

export type InstanceState = "warming" | "ready" | "assigned";

/**
 * Takes an instance out of every list and deletes its record in one script. `expected` restricts
 * which state may be removed; returns the state it had, or null when nothing was removed.
 */
export async function removeRecord(
  ctx: Ctx,
  keys: AppKeys,
  id: string,
  options: { expected?: InstanceState; event: "released" | "expired"; nowMs?: number },
): Promise<InstanceState | null> {
  const state = await runScript<string | null>(
    ctx.redis,
    "tinRemove",
    [keys.ready, keys.warming, keys.expiry, keys.inst(id)],
    [id, options.expected ?? "", options.nowMs ?? 0, ctx.keys.events, options.event],
  );
  return (state as InstanceState | null) ?? null;
}
