import { lt, sql } from "drizzle-orm";
import type { Ctx } from "../context";
import { events, instanceSessions } from "../db/schema";

const CHUNK = 10_000;

/**
 * Deletes raw events and instance sessions older than EVENTS_RETENTION_DAYS (a session by its end,
 * or its start when it never ended), in chunks so no statement holds locks for long. Hourly
 * rollups are kept (ARCHITECTURE.md, "Funnel analytics"). Returns how many rows went.
 */
export async function pruneEvents(ctx: Ctx, nowMs = ctx.clock.now()): Promise<{ events: number; sessions: number }> {
  const cutoff = new Date(nowMs - ctx.config.EVENTS_RETENTION_DAYS * 86_400_000);
  const removed = { events: 0, sessions: 0 };
  for (;;) {
    const [result] = await ctx.db.delete(events).where(lt(events.at, cutoff)).limit(CHUNK);
    removed.events += result.affectedRows;
    if (result.affectedRows < CHUNK) break;
  }
  for (;;) {
    const [result] = await ctx.db
      .delete(instanceSessions)
      .where(
        lt(sql`COALESCE(${instanceSessions.endedAt}, ${instanceSessions.assignedAt}, ${instanceSessions.lastRequestAt})`, cutoff),
      )
      .limit(CHUNK);
    removed.sessions += result.affectedRows;
    if (result.affectedRows < CHUNK) break;
  }
  return removed;
}
