import { busHealth } from "./bus/nats";
import type { Ctx } from "./context";

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
  const degraded = Object.values(checks).some((check) => !check.ok);
  return { healthy: redis.ok, body: { status: !redis.ok ? "unhealthy" : degraded ? "degraded" : "ok", checks } };
}
