import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { resolve } from "node:path";
import { purgeEndedBlocks, syncBlockMirror } from "../lib/abuse/blocks";
import { flushTrail, pruneTrail } from "../lib/abuse/trail";
import type { AppSpec } from "../lib/app-spec";
import { ensureDefaultApp } from "../lib/apps/ensure-default";
import { consumeCleanupJobs } from "../lib/bus/jobs";
import { ensureStreams } from "../lib/bus/nats";
import { loadConfig } from "../lib/config";
import { createContext } from "../lib/context";
import { StateLog } from "../lib/dependency";
import { flushEvents } from "../lib/events/publish";
import { pruneEvents } from "../lib/events/retention";
import { VisitsReader } from "../lib/events/visits";
import { writeEvents } from "../lib/events/write";
import { newRecordId } from "../lib/ids";
import type { Logger } from "../lib/log";
import { metrics } from "../lib/metrics";
import { publishMetricsSnapshot, removeMetricsSnapshot } from "../lib/metrics-merge";
import { recordPoolLevels } from "../lib/store/history";
import { readPoolLevels } from "../lib/store/pool-levels";
import { cleanupInstance } from "../lib/upkeep/cleanup";
import { expireDue } from "../lib/upkeep/expire";
import { failInstance } from "../lib/upkeep/fail";
import { reconcile } from "../lib/upkeep/reconcile";
import { Replenisher } from "../lib/upkeep/replenish";
import { syncApps } from "../lib/upkeep/sync-apps";
import { Heartbeat } from "./heartbeat";
import { every } from "./loop";

/**
 * The worker: all slow work (ARCHITECTURE.md, "Worker loops"). Replenish, reap, reconcile and app sync run as loops;
 * several workers may run at once, coordinating only through Redis scripts.
 */
async function main() {
  const config = loadConfig();
  const ctx = createContext(config, "worker");
  const workerId = `${hostname()}-${process.pid}-${newRecordId("w").slice(2, 10)}`;
  const log = ctx.log.child({ worker: workerId });
  // A rejection nobody awaited (a client's background call while its service is away) is logged;
  // it never ends the process (ARCHITECTURE.md, "Restarts").
  process.on("unhandledRejection", (reason) =>
    log.error({ err: reason instanceof Error ? reason.message : String(reason) }, "unhandled rejection"),
  );
  const heartbeat = new Heartbeat(ctx, workerId);
  // Beats from the first moment, also while waiting for dependencies (/health says what for).
  const early = setInterval(
    () => void heartbeat.beat().catch(() => undefined),
    Math.max(200, Math.floor(config.WORKER_LEASE / 3)),
  );
  const retry = (what: string, task: () => Promise<void>) => {
    heartbeat.waiting(what);
    return retryUntilDone(log, what, task);
  };

  await retry("Redis", async () => {
    await ctx.redis.hincrby(ctx.keys.starts, "worker", 1);
    await heartbeat.beat();
  });
  await retry("dependencies", async () => {
    await heartbeat.checkRuntime();
    await ctx.runtime.prepare();
    await ctx.routes.prepare();
    await ensureStreams(await ctx.bus(), ctx.busNames, { ackWaitMs: config.JOB_ACK_WAIT, maxDeliver: config.JOB_MAX_DELIVER });
    await ensureDefaultApp(ctx);
  });

  let apps: AppSpec[] = [];
  await retry("the apps (MariaDB)", async () => {
    apps = await syncApps(ctx);
  });
  ctx.egress.setApps(apps);
  if (config.EGRESS_RULES === "off")
    log.warn(
      "EGRESS_RULES=off: instances may reach any address, the host's private networks too; never run a public deployment so",
    );
  await retry("the egress rules (nftables)", async () => {
    await ctx.egress.sync(() => ctx.runtime.list());
  });
  const startReport = await reconcile(ctx).catch((error: Error) => ({ failed: error.message }));
  log.info({ apps: apps.map((a) => a.slug), reconcile: startReport }, "worker started");
  warnIfReloadsResetConnections(log);

  const replenisher = new Replenisher(ctx, workerId, config.PROVISION_CONCURRENCY);
  const stopWatching = ctx.runtime.watch((event) => {
    failInstance(ctx, event.app, event.id, event.kind).catch((error: Error) =>
      log.warn({ err: error.message, instance: event.id }, "could not fail instance; the reconciler will"),
    );
  });
  let stopping = false;
  const visits = new VisitsReader(ctx, log, workerId, resolve(config.PROXY_ACCESS_LOG));
  /** Cleanup jobs from the bus: started once NATS answers (retried every 2 s until then). */
  let jobs: Awaited<ReturnType<typeof consumeCleanupJobs>> | undefined;
  const takeJobs = async () => {
    if (jobs?.ended && !stopping) {
      log.warn("the cleanup job consumer ended: taking jobs again");
      jobs = undefined;
    }
    if (jobs || stopping) return;
    jobs = await consumeCleanupJobs(ctx, log, (job) => cleanupInstance(ctx, job.id));
    log.info("taking cleanup jobs");
  };
  const loops = [
    every("jobs", 2000, log, takeJobs),
    // Analytics events into MariaDB: the writer runs until it fails (bus or database away), then again.
    every("events", 2000, log, (beat) => writeEvents(ctx, log, () => stopping, beat)),
    // The proxy's access log: visits and requests per instance (one reader at a time holds a lease).
    every("visits", 1000, log, () => visits.tick()),
    // Raw events and sessions past EVENTS_RETENTION_DAYS (rollups stay).
    every("retention", 3_600_000, log, async () => {
      const removed = await pruneEvents(ctx);
      if (removed.events || removed.sessions) log.info({ removed }, "old analytics pruned");
      // The abuse trail keeps raw addresses for ABUSE_TRAIL_DAYS only (ARCHITECTURE.md, "Drain protection").
      const trail = await pruneTrail(ctx);
      const ended = await purgeEndedBlocks(ctx);
      if (trail || ended) log.info({ trail, blocks: ended }, "old abuse trail and ended blocks pruned");
    }),
    // The block list mirrored per app (expired blocks leave it), and ended assignments into the abuse trail.
    every("abuse", 2000, log, async () => {
      const slugs = apps.map((app) => app.slug);
      await syncBlockMirror(ctx, slugs);
      for (const slug of slugs) await flushTrail(ctx, slug);
    }),
    // The heartbeat carries the lease (ARCHITECTURE.md, "Supervision").
    every("lease", Math.max(200, Math.floor(config.WORKER_LEASE / 3)), log, () => heartbeat.beat()),
    every("runtime", 2000, log, () => heartbeat.checkRuntime()),
    every("apps", config.APP_SYNC_INTERVAL, log, async () => {
      apps = await syncApps(ctx);
      ctx.egress.setApps(apps);
    }),
    // The egress rules as they must be: put back within 2 s when deleted by hand; a changed
    // `egress` applies to running instances here (ARCHITECTURE.md, "Egress").
    every("egress", 2000, log, async () => {
      const report = await ctx.egress.sync(() => ctx.runtime.list());
      if (report.reinstalled) log.warn({ table: ctx.egress.table }, "egress rules were missing or changed: reinstalled");
      else if (report.changed) log.info({ changed: report.changed }, "egress policy of running instances updated");
    }),
    every("replenish", config.POOL_REPLENISH_INTERVAL, log, () => replenisher.tick(apps)),
    every("reap", 1000, log, () => Promise.all(apps.map((app) => expireDue(ctx, app.slug)))),
    // A restarted Caddy comes back with its bootstrap config: its routes are restored within a
    // second or two, not at the next reconcile (ARCHITECTURE.md, "Restarts").
    every("proxy", 1000, log, async () => {
      if (await ctx.routes.ready()) return;
      log.warn("the proxy has lost its routes (restarted?): restoring them");
      const report = await reconcile(ctx);
      log.info({ report }, "proxy routes restored");
    }),
    every("reconcile", config.RECONCILE_INTERVAL, log, async () => {
      const report = await reconcile(ctx);
      if (Object.values(report).some(Boolean)) log.info({ report }, "reconciled");
    }),
    every("metrics", 5000, log, async () => {
      if (jobs) metrics.jobsPending.set({ kind: "cleanup" }, await jobs.pending().catch(() => 0));
      await publishMetricsSnapshot(ctx, workerId);
    }),
    // The dashboard's per-minute pool levels (several workers write the same sample: harmless).
    every("history", 10_000, log, async () =>
      recordPoolLevels(
        ctx,
        await readPoolLevels(
          ctx.redis,
          apps.map((app) => ctx.keys.app(app.slug)),
        ),
      ),
    ),
  ];

  clearInterval(early);
  heartbeat.running(
    () => Object.fromEntries(loops.filter((loop) => loop.name !== "lease").map((loop) => [loop.name, loop.report()])),
    () => replenisher.backoff(),
  );

  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, inFlight: replenisher.busy }, "stopping: finishing or rolling back in-flight provisions");
    const deadline = setTimeout(() => {
      log.error("shutdown took too long; exiting");
      process.exit(1);
    }, 9500);
    stopWatching();
    // Jobs in hand get a moment to finish; an unfinished one is redelivered to another worker.
    await jobs?.stop(3000);
    await flushEvents(ctx).catch(() => undefined);
    await replenisher.stop(5000);
    await Promise.all(loops.map((loop) => loop.stop()));
    await removeMetricsSnapshot(ctx, workerId).catch(() => undefined);
    await heartbeat.stopped().catch(() => undefined);
    await ctx.close();
    clearTimeout(deadline);
    log.info("worker stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

/** Retries a start-up step until it works: the worker waits for its dependencies, however long. */
async function retryUntilDone(log: Logger, what: string, task: () => Promise<void>) {
  const state = new StateLog(log, `waiting for ${what}`);
  for (;;) {
    try {
      await task();
      state.ok();
      return;
    } catch (error) {
      state.failed(error);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

/**
 * Every route this worker adds or removes is a Caddy config reload, which opens a new listening
 * socket; without the kernel's request migration, connections queued on the old one are reset
 * (ARCHITECTURE.md, "Caddy reloads"). The scripts set it; a hand-made set-up is told here.
 */
function warnIfReloadsResetConnections(log: { warn: (obj: object, msg: string) => void }): void {
  let value: string;
  try {
    value = readFileSync("/proc/sys/net/ipv4/tcp_migrate_req", "utf8").trim();
  } catch {
    return; // not Linux, or a kernel without it: nothing to advise
  }
  if (value === "0") {
    log.warn(
      { setting: "net.ipv4.tcp_migrate_req=0" },
      "Caddy reloads will reset queued visitor connections; set net.ipv4.tcp_migrate_req=1",
    );
  }
}
