import client from "prom-client";
import type { Ctx } from "./context";
import { metrics } from "./metrics";
import { poolStats } from "./pool/stats";

const SNAPSHOT_MAX_AGE_MS = 30_000;

/** A worker stores its pool metrics (tin_*) in Redis, so the web's /metrics shows every process's figures. */
export async function publishMetricsSnapshot(ctx: Ctx, workerId: string): Promise<void> {
  const all = await metrics.registry.getMetricsAsJSON();
  const ours = all.filter((metric) => metric.name.startsWith("tin_"));
  await ctx.redis.hset(ctx.keys.workerMetrics, workerId, JSON.stringify({ atMs: Date.now(), metrics: ours }));
}

export async function removeMetricsSnapshot(ctx: Ctx, workerId: string): Promise<void> {
  await ctx.redis.hdel(ctx.keys.workerMetrics, workerId);
}

/** This process's metrics merged with the workers' recent snapshots (counters and histograms summed). */
export async function mergedMetrics(ctx: Ctx): Promise<{ contentType: string; body: string }> {
  await poolStats(ctx); // refreshes the pool gauges
  const snapshots = await ctx.redis.hgetall(ctx.keys.workerMetrics);
  const now = Date.now();
  const parts: object[] = [await metrics.registry.getMetricsAsJSON()];
  for (const [workerId, raw] of Object.entries(snapshots)) {
    const snapshot = JSON.parse(raw) as { atMs: number; metrics: object[] };
    if (now - snapshot.atMs > SNAPSHOT_MAX_AGE_MS) {
      await ctx.redis.hdel(ctx.keys.workerMetrics, workerId);
      continue;
    }
    parts.push(snapshot.metrics);
  }
  const merged = client.AggregatorRegistry.aggregate(parts);
  return { contentType: merged.contentType, body: await merged.metrics() };
}
