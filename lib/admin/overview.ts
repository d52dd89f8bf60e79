import { EVERY_APP } from "../audit/model";
import type { Ctx } from "../context";
import { healthReport } from "../health";
import { poolStats } from "../pool/stats";
import { readFailures, readHistory } from "../store/history";

/** Everything the dashboard's overview shows, from the same verbs as the API (stats, health). */
export async function overview(ctx: Ctx) {
  const [stats, health, history, failures] = await Promise.all([
    poolStats(ctx, EVERY_APP),
    healthReport(ctx),
    readHistory(ctx, 60),
    readFailures(ctx, 20),
  ]);
  return {
    at: new Date().toISOString(),
    stats,
    health: { status: health.status, reasons: health.reasons, ...health.detail },
    // Workers whose heartbeat is live.
    workers: health.detail.workers.filter((worker) => worker.live).map((worker) => worker.id),
    history,
    failures: failures.map((failure) => ({ ...failure, at: new Date(failure.at).toISOString() })),
  };
}
export type Overview = Awaited<ReturnType<typeof overview>>;
