import client from "prom-client";
import { EVERY_APP } from "./audit/model";
import type { Ctx } from "./context";
import { metrics } from "./metrics";
import { poolStats } from "./pool/stats";
import { MetricsSnapshot, parseJson } from "./store/messages";

const SNAPSHOT_MAX_AGE_MS = 30_000;

/**
 * A worker or web process stores its metrics (tin_*) in Redis, so any web's /metrics shows every
 * process's figures.
 */
export async function publishMetricsSnapshot(ctx: Ctx, processId: string): Promise<void> {
  const all = await metrics.registry.getMetricsAsJSON();
  const ours = all.filter((metric) => metric.name.startsWith("tin_"));
  await ctx.redis.hset(ctx.keys.workerMetrics, processId, JSON.stringify({ atMs: ctx.clock.now(), metrics: ours }));
}

export async function removeMetricsSnapshot(ctx: Ctx, processId: string): Promise<void> {
  await ctx.redis.hdel(ctx.keys.workerMetrics, processId);
}

/** The process counts only Redis knows: starts per kind, live web processes. */
async function refreshProcessGauges(ctx: Ctx): Promise<void> {
  const [starts, webs] = await Promise.all([ctx.redis.hgetall(ctx.keys.starts), countKeys(ctx, ctx.keys.webLease("*"))]);
  for (const [kind, count] of Object.entries(starts)) metrics.starts.set({ process: kind }, Number(count));
  metrics.webProcesses.set(webs);
}

async function countKeys(ctx: Ctx, pattern: string): Promise<number> {
  let cursor = "0";
  let count = 0;
  do {
    const [next, keys] = await ctx.redis.scan(cursor, "MATCH", pattern, "COUNT", 200);
    cursor = next;
    count += keys.length;
  } while (cursor !== "0");
  return count;
}

/**
 * This process's metrics merged with the other processes' recent snapshots (counters and
 * histograms summed, gauges by their aggregator; this process's own snapshot is left out).
 * A snapshot that does not parse, or that the merge rejects, is left out (and logged): one bad
 * snapshot never breaks /metrics.
 */
export async function mergedMetrics(ctx: Ctx, self: string): Promise<{ contentType: string; body: string }> {
  await Promise.all([poolStats(ctx, EVERY_APP), refreshProcessGauges(ctx)]); // the pool and process gauges
  const snapshots = await ctx.redis.hgetall(ctx.keys.workerMetrics);
  const now = ctx.clock.now();
  const ours = await metrics.registry.getMetricsAsJSON();
  const theirs: MetricsSnapshot["metrics"][] = [];
  for (const [workerId, raw] of Object.entries(snapshots)) {
    if (workerId === self) continue;
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
