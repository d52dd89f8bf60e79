import { busHealth } from "./bus/nats";
import type { Ctx } from "./context";
import { openApiPossible } from "./keys/authenticate";
import { GivenUp, parseJson, WorkerHeartbeat } from "./store/messages";
import { execPipeline } from "./store/pipeline";

type Check = { ok: boolean; latency_ms: number; error?: string };

/** What /health answers (ARCHITECTURE.md, "Supervision"): 503 for `down` and `unhealthy`. */
export type HealthStatus = "ok" | "degraded" | "down" | "unhealthy";

/** Why the status is not `ok`: a code for machines and a sentence for people, with no error text (the public view shows it). */
export interface HealthReason {
  code:
    | "REDIS"
    | "WORKER_DOWN"
    | "NO_WORKER"
    | "WORKER_STARTING"
    | "LOOP_STALLED"
    | "LOOP_FAILING"
    | "BACKOFF"
    | "GIVEN_UP"
    | "DEPENDENCY";
  message: string;
}

/** A loop counts as stalled after this many of its intervals without completing (never sooner than the floor). */
const STALL_INTERVALS = 3;
const STALL_FLOOR_MS = 10_000;
/** A loop failing this long (at least) is a reason; a single failed run is not. */
const FAILING_FLOOR_MS = 5_000;

/** Runs a check with a deadline; its value when it answered. */
async function measured<T>(task: () => Promise<T>, timeoutMs = 2000): Promise<{ check: Check; value: T | null }> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const value = await Promise.race([
      task(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { check: { ok: true, latency_ms: Math.round(performance.now() - started) }, value };
  } catch (error) {
    return {
      check: { ok: false, latency_ms: Math.round(performance.now() - started), error: (error as Error).message.slice(0, 200) },
      value: null,
    };
  } finally {
    clearTimeout(timer);
  }
}

const timed = async (task: () => Promise<unknown>) => (await measured(task)).check;

const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

export interface HealthInput {
  now: number;
  /** A heartbeat older than this is not live (the worker's lease). */
  leaseMs: number;
  downAfterMs: number;
  redisOk: boolean;
  heartbeats: WorkerHeartbeat[];
  givenUp: Record<string, GivenUp>;
  /** The dependencies the web checks itself: MariaDB, NATS, Caddy. */
  checks: Record<string, Check>;
}

/**
 * The status and its reasons from what the processes reported (pure: `lib/health.test.ts`).
 * `down` needs a worker to have been seen: a stack started without one (as tests do) is `degraded`
 * at worst.
 */
export function evaluateHealth(input: HealthInput): { status: HealthStatus; reasons: HealthReason[] } {
  const { now, heartbeats } = input;
  const reasons: HealthReason[] = [];
  if (!input.redisOk)
    return { status: "unhealthy", reasons: [{ code: "REDIS", message: "Redis does not answer: no demo can be handed out" }] };
  const live = heartbeats.filter((beat) => beat.phase !== "stopped" && now - beat.at_ms <= input.leaseMs);
  let down = false;
  if (heartbeats.length && !live.length) {
    const silentFor = now - Math.max(...heartbeats.map((beat) => beat.at_ms));
    down = silentFor > input.downAfterMs;
    reasons.push(
      down
        ? {
            code: "WORKER_DOWN",
            message: `no worker has been alive for ${seconds(silentFor)}: the pool is not refilled and ended demos are not removed`,
          }
        : { code: "NO_WORKER", message: `no worker has a live heartbeat (the last one ${seconds(silentFor)} ago)` },
    );
  }
  for (const beat of live) {
    if (beat.phase === "starting") {
      reasons.push({
        code: "WORKER_STARTING",
        message: `worker ${beat.id} is waiting for ${beat.waiting_for ?? "its dependencies"}`,
      });
      continue;
    }
    for (const [name, loop] of Object.entries(beat.loops)) {
      const stallAfter = Math.max(STALL_INTERVALS * loop.every_ms, STALL_FLOOR_MS);
      const since = loop.done_at_ms ?? beat.started_at_ms;
      if (now - since > stallAfter) {
        reasons.push({
          code: "LOOP_STALLED",
          message: `loop ${name} of worker ${beat.id} has not completed for ${seconds(now - since)} (it runs every ${seconds(loop.every_ms)})`,
        });
      } else if (loop.failing_since_ms !== null && now - loop.failing_since_ms > Math.max(2 * loop.every_ms, FAILING_FLOOR_MS)) {
        reasons.push({
          code: "LOOP_FAILING",
          message: `loop ${name} of worker ${beat.id} has been failing for ${seconds(now - loop.failing_since_ms)}`,
        });
      }
    }
  }
  const runtime = freshestRuntime(live);
  if (runtime && !runtime.ok)
    reasons.push({ code: "DEPENDENCY", message: "the container runtime (Docker) does not answer the workers" });
  const backoff = new Map<string, number>();
  for (const beat of live)
    for (const entry of beat.backoff)
      if (entry.until_ms > now) backoff.set(entry.app, Math.max(backoff.get(entry.app) ?? 0, entry.failures));
  for (const [app, failures] of backoff) {
    reasons.push({ code: "BACKOFF", message: `replenishing app ${app} is backing off after ${failures} failed provision(s)` });
  }
  for (const [name, record] of Object.entries(input.givenUp)) {
    reasons.push({
      code: "GIVEN_UP",
      message: `the supervisor gave up restarting ${name} after ${record.starts} failed starts (${record.last_exit})`,
    });
  }
  for (const [name, check] of Object.entries(input.checks))
    if (!check.ok) reasons.push({ code: "DEPENDENCY", message: `${name} does not answer` });
  return { status: down ? "down" : reasons.length ? "degraded" : "ok", reasons };
}

function freshestRuntime(live: WorkerHeartbeat[]) {
  let best: WorkerHeartbeat["runtime"] = null;
  for (const beat of live) if (beat.runtime && (!best || beat.runtime.at_ms > best.at_ms)) best = beat.runtime;
  return best;
}

/** The heartbeats and give-ups as Redis holds them, plus its own answer and durability (one round trip). */
async function readReports(ctx: Ctx) {
  const pipeline = ctx.redis.pipeline().hgetall(ctx.keys.heartbeats).hgetall(ctx.keys.givenUp).config("GET", "appendonly");
  const [beats, givenUp, appendOnly] = (await execPipeline(pipeline)) as [
    Record<string, string>,
    Record<string, string>,
    string[],
  ];
  const heartbeats = Object.values(beats).flatMap((raw) => parseJson(WorkerHeartbeat, raw) ?? []);
  const given: Record<string, GivenUp> = {};
  for (const [name, raw] of Object.entries(givenUp)) {
    const record = parseJson(GivenUp, raw);
    if (record) given[name] = record;
  }
  return { heartbeats, givenUp: given, appendOnly: appendOnly?.[1] === "yes" };
}

async function buildReport(ctx: Ctx) {
  const now = ctx.clock.now();
  const [reports, mariadb, nats, caddy, openApi] = await Promise.all([
    measured(() => readReports(ctx)),
    timed(() => ctx.db.execute("select 1")),
    timed(async () => busHealth(await ctx.bus())),
    timed(() => ctx.routes.ping()),
    openApiPossible(ctx).catch(() => false),
  ]);
  const value = reports.value;
  const heartbeats = value?.heartbeats ?? [];
  const live = heartbeats.filter((beat) => beat.phase !== "stopped" && now - beat.at_ms <= ctx.config.WORKER_LEASE);
  const runtime = freshestRuntime(live);
  const docker: Check = runtime
    ? { ok: runtime.ok, latency_ms: runtime.latency_ms, ...(runtime.error ? { error: runtime.error } : {}) }
    : { ok: false, latency_ms: 0, error: "no live worker reports the container runtime" };
  const redis = reports.check;
  const { status, reasons } = evaluateHealth({
    now,
    leaseMs: ctx.config.WORKER_LEASE,
    downAfterMs: ctx.config.WORKER_DOWN_AFTER,
    redisOk: redis.ok,
    heartbeats,
    givenUp: value?.givenUp ?? {},
    checks: { mariadb, nats, caddy },
  });
  const checks = { redis, docker, caddy, mariadb, nats };
  const durability = { redis_append_only: value?.appendOnly ?? false, docker_live_restore: runtime?.live_restore ?? false };
  return {
    status,
    reasons,
    detail: {
      checks,
      unavailable: Object.entries(checks)
        .filter(([, check]) => !check.ok)
        .map(([name]) => name),
      workers: heartbeats.map((beat) => ({
        id: beat.id,
        phase: beat.phase,
        live: live.includes(beat),
        heartbeat_age_ms: now - beat.at_ms,
        waiting_for: beat.waiting_for,
        loops: Object.fromEntries(
          Object.entries(beat.loops).map(([name, loop]) => [
            name,
            {
              every_ms: loop.every_ms,
              completed_ago_ms: loop.done_at_ms === null ? null : now - loop.done_at_ms,
              error: loop.error,
            },
          ]),
        ),
        backoff: beat.backoff,
      })),
      given_up: value?.givenUp ?? {},
      durable: durability.redis_append_only && durability.docker_live_restore,
      durability,
      // Clients on this machine (never through the proxy) may use the API without a key right now.
      open_api: openApi,
    },
  };
}
export type HealthReport = Awaited<ReturnType<typeof buildReport>>;

const cache = new WeakMap<Ctx, { atMs: number; report: Promise<HealthReport> }>();

/**
 * The health of the deployment, evaluated at most once per HEALTH_CACHE per process (concurrent
 * callers share one evaluation), so a flood of /health costs Redis reads from the cache, not a
 * round to MariaDB, NATS and Caddy per request.
 */
export function healthReport(ctx: Ctx): Promise<HealthReport> {
  const now = ctx.clock.now();
  const cached = cache.get(ctx);
  if (cached && now - cached.atMs < ctx.config.HEALTH_CACHE) return cached.report;
  const report = buildReport(ctx);
  cache.set(ctx, { atMs: now, report });
  report.catch(() => cache.delete(ctx));
  return report;
}

/** 503 when a load balancer should stop trusting this host. */
export const serving = (status: HealthStatus) => status === "ok" || status === "degraded";
