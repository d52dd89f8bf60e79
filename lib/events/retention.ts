import type { Ctx } from "../context";
import { pruneBefore } from "../db/events";

/**
 * Deletes raw events and instance sessions older than EVENTS_RETENTION_DAYS; hourly rollups are
 * kept (ARCHITECTURE.md, "Funnel analytics"). Returns how many rows went.
 */
export async function pruneEvents(ctx: Ctx, nowMs = ctx.clock.now()): Promise<{ events: number; sessions: number }> {
  return pruneBefore(ctx, new Date(nowMs - ctx.config.EVENTS_RETENTION_DAYS * 86_400_000));
}
