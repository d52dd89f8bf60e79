import { EVERY_APP } from "./audit/model";
import client from "prom-client";
import type { Ctx } from "./context";
import { metrics } from "./metrics";
import { poolStats } from "./pool/stats";
import { MetricsSnapshot, parseJson } from "./store/messages";

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

/**
 * This process's metrics merged with the workers' recent snapshots (counters and histograms summed).
 * A snapshot that does not parse, or that the merge rejects, is left out (and logged): one bad
 * snapshot never breaks /metrics.
 */
export async function mergedMetrics(ctx: Ctx): Promise<{ contentType: string; body: string }> {
  await poolStats(ctx, EVERY_APP); // refreshes the pool gauges
  const snapshots = await ctx.redis.hgetall(ctx.keys.workerMetrics);
  const now = Date.now();
  const ours = await metrics.registry.getMetricsAsJSON();
  const theirs: MetricsSnapshot["metrics"][] = [];
  for (const [workerId, raw] of Object.entries(snapshots)) {
    const snapshot = parseJson(MetricsSnapshot, raw);
    if (!snapshot) {
      ctx.log.warn({ worker: workerId, snapshot: raw.slice(0, 200) }, "malformed worker metrics snapshot removed");
      await ctx.redis.hdel(ctx.keys.workerMetrics, workerId);
      continue;
    }
    if (now - snapshot.atMs > SNAPSHOT_MAX_AGE_MS) {
      await ctx.redis.hdel(ctx.keys.workerMetrics, workerId);
      continue;
    }
    theirs.push(snapshot.metrics);
  }
  let merged: client.Registry;
  try {
    merged = client.AggregatorRegistry.aggregate([ours, ...theirs]);
  } catch (error) {
    ctx.log.warn({ err: (error as Error).message }, "worker metrics could not be merged; serving this process's alone");
    merged = client.AggregatorRegistry.aggregate([ours]);
  }
  return { contentType: merged.contentType, body: await merged.metrics() };
}
