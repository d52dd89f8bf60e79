import type { Ctx } from "../context";
import type { AppKeys } from "../store/keys";
import { type InstanceState, removeScript } from "../store/scripts";

export type { InstanceState };

/**
 * Takes an instance out of every list and deletes its record in one script. `expected` restricts
 * which state may be removed; returns the state it had, or null when nothing was removed.
 */
export function removeRecord(
  ctx: Ctx,
  keys: AppKeys,
  id: string,
  options: { expected?: InstanceState; event: "released" | "expired"; nowMs?: number },
): Promise<InstanceState | null> {
  return removeScript.run(
    ctx.redis,
    { ready: keys.ready, warming: keys.warming, expiry: keys.expiry, inst: keys.inst(id), trail: keys.trail },
    { id, expectedState: options.expected ?? "", nowMs: options.nowMs ?? 0, channel: ctx.keys.events, eventType: options.event },
  );
}
