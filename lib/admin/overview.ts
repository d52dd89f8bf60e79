import { EVERY_APP } from "../audit/model";
import type { Ctx } from "../context";
import { healthReport } from "../health";
import { poolStats } from "../pool/stats";
import { readFailures, readHistory } from "./history";

/** Workers whose liveness lease is held. */
async function liveWorkers(ctx: Ctx): Promise<string[]> {
  const workers: string[] = [];
  let cursor = "0";
  do {
    const [next, keys] = await ctx.redis.scan(cursor, "MATCH", ctx.keys.workerLeasePattern, "COUNT", 200);
    cursor = next;
    for (const key of keys) workers.push(key.slice(ctx.keys.workerLeasePattern.length - 1));
  } while (cursor !== "0");
  return workers.sort();
}

/** Everything the dashboard's overview shows, from the same verbs as the API (stats, health). */
export async function overview(ctx: Ctx) {
  const [stats, health, workers, history, failures] = await Promise.all([
    poolStats(ctx, EVERY_APP),
    healthReport(ctx),
    liveWorkers(ctx),
    readHistory(ctx, 60),
    readFailures(ctx, 20),
  ]);
  return {
    at: new Date().toISOString(),
    stats,
    health: health.body,
    workers,
    history,
    failures: failures.map((failure) => ({ ...failure, at: new Date(failure.at).toISOString() })),
  };
}
export type Overview = Awaited<ReturnType<typeof overview>>;
