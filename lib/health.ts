import { busHealth } from "./bus/nats";
import type { Ctx } from "./context";
import { openApiPossible } from "./keys/authenticate";

type Check = { ok: boolean; latency_ms: number; error?: string };

async function timed(task: () => Promise<unknown>, timeoutMs = 2000): Promise<Check> {
  const started = performance.now();
  try {
    await Promise.race([
      task(),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)),
    ]);
    return { ok: true, latency_ms: Math.round(performance.now() - started) };
  } catch (error) {
    return { ok: false, latency_ms: Math.round(performance.now() - started), error: (error as Error).message.slice(0, 200) };
  }
}

/** Per-dependency checks. Healthy (200) when Redis answers, since acquire needs only Redis. */
export async function healthReport(ctx: Ctx) {
  const [redis, docker, caddy, mariadb, nats] = await Promise.all([
    timed(() => ctx.redis.ping()),
    timed(() => ctx.runtime.ping()),
    timed(() => ctx.routes.ping()),
    timed(() => ctx.db.execute("select 1")),
    timed(async () => busHealth(await ctx.bus())),
  ]);
  const checks = { redis, docker, caddy, mariadb, nats };
  const unavailable = Object.entries(checks)
    .filter(([, check]) => !check.ok)
    .map(([name]) => name);
  const [durability, openApi] = await Promise.all([durabilityOf(ctx), openApiPossible(ctx).catch(() => false)]);
  return {
    healthy: redis.ok,
    body: {
      status: !redis.ok ? "unhealthy" : unavailable.length ? "degraded" : "ok",
      unavailable,
      checks,
      durable: durability.redis_append_only && durability.docker_live_restore,
      durability,
      // Clients on this machine (never through the proxy) may use the API without a key right now.
      open_api: openApi,
    },
  };
}

/**
 * Whether a restart of Redis or of the Docker daemon would end running demos (ARCHITECTURE.md,
 * "Restarts"): Redis needs its append-only file, Docker its live-restore. Unknown counts as no.
 */
async function durabilityOf(ctx: Ctx) {
  const [aof, live] = await Promise.allSettled([
    ctx.redis.config("GET", "appendonly") as Promise<string[]>,
    ctx.runtime.survivesRestart(),
  ]);
  return {
    redis_append_only: aof.status === "fulfilled" && aof.value[1] === "yes",
    docker_live_restore: live.status === "fulfilled" && live.value,
  };
}
