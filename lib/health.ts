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
    timed(() => natsReachable(ctx.config.NATS_URL)),
  ]);
  const checks = { redis, docker, caddy, mariadb, nats };
  const degraded = Object.values(checks).some((check) => !check.ok);
  return { healthy: redis.ok, body: { status: !redis.ok ? "unhealthy" : degraded ? "degraded" : "ok", checks } };
}

/** A NATS server greets every connection with an INFO line; the job bus connects for real once it lands. */
async function natsReachable(url: string): Promise<void> {
  const { hostname, port } = new URL(url);
  const { connect } = await import("node:net");
  await new Promise<void>((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port || 4222) });
    socket.setTimeout(1500, () => socket.destroy(new Error("timeout")));
    socket.once("data", (data) => {
      socket.destroy();
      if (data.toString().startsWith("INFO")) resolve();
      else reject(new Error("not a NATS server"));
    });
    socket.once("error", reject);
  });
}
