import type { Ctx } from "../context";
import { dropInstanceDatabase, listInstanceDatabases } from "../demo-db/drop";
import { demoDbConfigured } from "../demo-db/server";
import { metrics } from "../metrics";
import { removeRecord } from "../pool/remove";
import { decodeInstance } from "../store/hashes";
import { recordFailure } from "../store/history";
import { as, execPipeline } from "../store/pipeline";

const RECORD = ["state", "worker", "ready_at"] as const;

import { cleanupInstance } from "./cleanup";

interface RecordInfo {
  app: string;
  state: string;
  worker: string | null;
  readyAtMs: number;
}

export interface ReconcileReport {
  abandoned: number;
  lost: number;
  orphanContainers: number;
  orphanRoutes: number;
  routesRestored: number;
  staleLookups: number;
  orphanDatabases: number;
}

/**
 * Makes Docker (by label), Redis, Caddy and the demo databases agree (ARCHITECTURE.md, "Worker loops"). Level-triggered: it reads what
 * exists and repairs it. Containers and routes are listed before records are read, so anything a
 * worker creates while this runs already has its record (reserve comes first) and is left alone.
 */
export async function reconcile(ctx: Ctx): Promise<ReconcileReport> {
  const timer = metrics.reconcileDuration.startTimer();
  try {
    return await reconcileOnce(ctx);
  } finally {
    timer();
  }
}

async function reconcileOnce(ctx: Ctx): Promise<ReconcileReport> {
  const report: ReconcileReport = {
    abandoned: 0,
    lost: 0,
    orphanContainers: 0,
    orphanRoutes: 0,
    routesRestored: 0,
    staleLookups: 0,
    orphanDatabases: 0,
  };
  await ctx.routes.prepare();
  const listedAtMs = ctx.clock.now();
  const [containers, routes, databases] = await Promise.all([
    ctx.runtime.list(),
    ctx.routes.list(),
    // Listed before the records too: a database made after this belongs to a record already there.
    demoDbConfigured(ctx.config)
      ? listInstanceDatabases(ctx).catch((error) => {
          ctx.log.warn({ err: (error as Error).message }, "could not list the demo databases; skipped this round");
          return new Set<string>();
        })
      : new Set<string>(),
  ]);
  const slugs = new Set([...(await ctx.redis.smembers(ctx.keys.apps)), ...containers.map((c) => c.app)]);
  const records = await readRecords(ctx, [...slugs]);
  const liveWorkers = await liveWorkerIds(ctx, records);
  const containerById = new Map(containers.map((c) => [c.id, c]));
  const routeIds = new Set(routes.map((r) => r.id));

  for (const [id, record] of records) {
    const keys = ctx.keys.app(record.app);
    const container = containerById.get(id);
    if (record.state === "warming") {
      if (record.worker && liveWorkers.has(record.worker)) continue; // still being provisioned
      if (await removeRecord(ctx, keys, id, { expected: "warming", event: "expired" })) {
        report.abandoned += 1;
        records.delete(id);
        await cleanupInstance(ctx, id);
      }
      continue;
    }
    // Became ready after the listing: its container and route may simply not have been listed yet.
    if (record.readyAtMs >= listedAtMs) continue;
    if (!container?.running || !container.hostPort) {
      // The container died or vanished (OOM, manual removal): fail the record; replenish replaces it.
      if (await removeRecord(ctx, keys, id, { event: "expired" })) {
        report.lost += 1;
        await recordFailure(ctx, { app: record.app, instance: id, reason: "lost", error: "container gone or not running" });
        records.delete(id);
        await cleanupInstance(ctx, id);
      }
      continue;
    }
    if (!routeIds.has(id)) {
      await ctx.routes.add(id, container.hostPort);
      report.routesRestored += 1;
    }
  }
  for (const container of containers) {
    if (records.has(container.id)) continue;
    await cleanupInstance(ctx, container.id);
    report.orphanContainers += 1;
  }
  for (const route of routes) {
    if (records.has(route.id) || containerById.has(route.id)) continue;
    await ctx.routes.remove(route.id);
    report.orphanRoutes += 1;
  }
  for (const id of databases) {
    if (records.has(id) || containerById.has(id)) continue;
    await dropInstanceDatabase(ctx, id);
    report.orphanDatabases += 1;
  }
  report.staleLookups = await sweepLookups(ctx, records);
  for (const [kind, count] of Object.entries(report)) if (count) metrics.reconciled.inc({ kind }, count);
  return report;
}

/** Every instance record of the given apps: ready list, warming set, expiry set. */
async function readRecords(ctx: Ctx, slugs: string[]): Promise<Map<string, RecordInfo>> {
  const listing = ctx.redis.pipeline();
  for (const slug of slugs) {
    const keys = ctx.keys.app(slug);
    listing.lrange(keys.ready, 0, -1).smembers(keys.warming).zrange(keys.expiry, "0", "-1");
  }
  const lists = slugs.length ? await execPipeline(listing) : [];
  const ids: { id: string; app: string }[] = [];
  slugs.forEach((app, index) => {
    for (let offset = 0; offset < 3; offset += 1) {
      for (const id of as.members(lists[index * 3 + offset])) ids.push({ id, app });
    }
  });
  const reading = ctx.redis.pipeline();
  for (const { id, app } of ids) reading.hmget(ctx.keys.app(app).inst(id), ...RECORD);
  const fields = ids.length ? await execPipeline(reading) : [];
  const records = new Map<string, RecordInfo>();
  ids.forEach(({ id, app }, index) => {
    const record = decodeInstance(RECORD, as.fields(fields[index]));
    if (!record.state) return;
    records.set(id, { app, state: record.state, worker: record.worker, readyAtMs: record.ready_at ?? 0 });
  });
  return records;
}

async function liveWorkerIds(ctx: Ctx, records: Map<string, RecordInfo>): Promise<Set<string>> {
  const workers = [...new Set([...records.values()].map((r) => r.worker).filter((w): w is string => !!w))];
  if (!workers.length) return new Set();
  const leases = await ctx.redis.mget(...workers.map((w) => ctx.keys.workerLease(w)));
  return new Set(workers.filter((_, index) => leases[index] !== null));
}

/** Deletes id lookups whose instance is gone (a crash between a record's removal and its cleanup). */
async function sweepLookups(ctx: Ctx, records: Map<string, RecordInfo>): Promise<number> {
  let cursor = "0";
  let removed = 0;
  do {
    const [next, keys] = await ctx.redis.scan(cursor, "MATCH", ctx.keys.locPattern, "COUNT", 500);
    cursor = next;
    const candidates = keys.map((key) => key.slice(ctx.keys.locPattern.length - 1)).filter((id) => !records.has(id));
    if (candidates.length) {
      // Check again for each: the instance may have been reserved after the records were read.
      const apps = await ctx.redis.mget(...candidates.map((id) => ctx.keys.loc(id)));
      for (const [index, id] of candidates.entries()) {
        const app = apps[index];
        if (!app) continue;
        if (await ctx.redis.exists(ctx.keys.app(app).inst(id))) continue;
        removed += await ctx.redis.del(ctx.keys.loc(id));
      }
    }
  } while (cursor !== "0");
  return removed;
}
