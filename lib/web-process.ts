import { hostname } from "node:os";
import type { Ctx } from "./context";
import { publishMetricsSnapshot, removeMetricsSnapshot } from "./metrics-merge";
import { execPipeline } from "./store/pipeline";

/**
 * This web process's name among the deployment's processes: host and pid, so the supervisor that
 * started it knows it too (it frees the process's stream slots the moment it dies). Every copy of
 * lib/ in the process (server bundle, Next.js's) computes the same value.
 */
export const webProcessId = (pid: number) => `web-${hostname()}-${pid}`;
export const WEB_PROCESS_ID = webProcessId(process.pid);

/** The lease lapses this long after the last renewal; the supervisor deletes it at once on a death it sees. */
const LEASE_MS = 5000;
const RENEW_MS = 1500;
const SNAPSHOT_MS = 5000;

/**
 * Counts this start, then keeps the process's liveness lease and its metrics snapshot in Redis
 * (ARCHITECTURE.md, "Supervision"). Returns the function that stops both and removes them.
 */
export function announceWebProcess(ctx: Ctx): () => Promise<void> {
  const lease = ctx.keys.webLease(WEB_PROCESS_ID);
  let counted = false;
  const renew = async () => {
    const pipeline = ctx.redis.pipeline().set(lease, "1", "PX", LEASE_MS);
    if (!counted) pipeline.hincrby(ctx.keys.starts, "web", 1);
    await execPipeline(pipeline);
    counted = true;
  };
  const warn = (what: string) => (error: Error) => ctx.log.warn({ err: error.message }, `${what} failed`);
  void renew().catch(warn("web lease"));
  const leaseTimer = setInterval(() => void renew().catch(warn("web lease")), RENEW_MS);
  const snapshotTimer = setInterval(
    () => void publishMetricsSnapshot(ctx, WEB_PROCESS_ID).catch(warn("metrics snapshot")),
    SNAPSHOT_MS,
  );
  leaseTimer.unref();
  snapshotTimer.unref();
  return async () => {
    clearInterval(leaseTimer);
    clearInterval(snapshotTimer);
    await Promise.all([ctx.redis.del(lease), removeMetricsSnapshot(ctx, WEB_PROCESS_ID)]).catch(() => undefined);
  };
}
