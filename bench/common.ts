/** Shared pieces of the benchmarks: the bench stack's settings, process spawning, tables. */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import { jetstreamManager } from "@nats-io/jetstream";
import type Docker from "dockerode";
import type { Redis } from "ioredis";
import { busNames, connectBus } from "../lib/bus/nats";
import { loadConfig } from "../lib/config";
import { newInstanceId } from "../lib/ids";
import type { AppKeys } from "../lib/store/keys";
import { redisKeys } from "../lib/store/keys";
import { acquireScript, readyScript, reserveScript } from "../lib/store/scripts";

const base = loadConfig();
const benchDatabaseUrl = (() => {
  const url = new URL(base.DATABASE_URL);
  url.pathname = `${url.pathname}_bench`;
  return process.env.BENCH_DATABASE_URL ?? url.toString();
})();

export const BENCH_ENV: Record<string, string> = {
  NODE_ENV: "production",
  PORT: "18090",
  PROXY_PORT: "18091",
  // The benches start their own web processes on ports of their own (not through the supervisor).
  WEB_PROCESSES: "1",
  PUBLIC_URL: "http://localhost:18090",
  CADDY_ADMIN_URL: "http://127.0.0.1:12029",
  PROXY_ACCESS_LOG: ".data/bench-caddy/access.log",
  VALKEY_PREFIX: "tinbench:",
  DATABASE_URL: benchDatabaseUrl,
  CONTAINER_NETWORK: "tin-bench-net",
  API_KEY: "bench-secret-key-0123456789",
  POOL_TARGET_SIZE: "0",
  POOL_MIN_SIZE: "0",
  POOL_MAX_SIZE: "100000",
  RATE_LIMIT_HOURLY: "0",
  RATE_LIMIT_DAILY: "0",
  APP_SYNC_INTERVAL: "200ms",
  POOL_REPLENISH_INTERVAL: "100ms",
  LOG_LEVEL: "info",
};

export function benchConfig() {
  return loadConfig({ ...process.env, ...BENCH_ENV });
}

const started = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of started) if (child.exitCode === null) child.kill("SIGKILL");
});

export function spawnLogged(name: string, command: string, args: string[], env: Record<string, string> = {}) {
  mkdirSync(".data/logs", { recursive: true });
  const log = createWriteStream(`.data/logs/bench-${name}.log`, { flags: "a" });
  const child = spawn(command, args, { env: { ...process.env, ...BENCH_ENV, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  started.add(child);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    child,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
      started.delete(child);
    },
  };
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | false | null | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch {
      // not yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export function startBenchCaddy() {
  mkdirSync(".data/bench-caddy", { recursive: true });
  const config = JSON.stringify({ admin: { listen: "127.0.0.1:12029" } });
  return spawnLogged(
    "caddy",
    "bash",
    ["-c", `echo '${config}' > .data/bench-caddy/bootstrap.json && exec caddy run --config .data/bench-caddy/bootstrap.json`],
    {
      XDG_DATA_HOME: ".data/bench-caddy",
      XDG_CONFIG_HOME: ".data/bench-caddy",
    },
  );
}

export async function caddyUp() {
  return (await fetch("http://127.0.0.1:12029/config/", { signal: AbortSignal.timeout(1000) })).ok;
}

/** A container's memory as `docker stats` shows it: usage less the inactive page cache. */
export async function containerMemory(docker: Docker, id: string): Promise<number> {
  const stats = (await docker.getContainer(id).stats({ stream: false })) as {
    memory_stats: { usage?: number; stats?: Record<string, number> };
  };
  const { usage = 0, stats: detail = {} } = stats.memory_stats;
  return usage - (detail.inactive_file ?? detail.total_inactive_file ?? 0);
}

export function percentile(sorted: number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

/** Prints a table and then one JSON line with the same figures. */
export function report(name: string, rows: Record<string, string | number>[], json: Record<string, unknown>) {
  console.log(`\n## ${name}`);
  console.table(rows);
  console.log(JSON.stringify({ bench: name, ...json }));
}

/**
 * Empties the bench's Redis (every key of its prefix) and fills one app's ready list with `count`
 * ids through the same reserve/ready scripts the worker uses — no containers behind them — with
 * the app's settings mirror plus `cfg` (e.g. a drain cap, a gate).
 */
export async function fillReadyList(
  redis: Redis,
  prefix: string,
  keys: AppKeys,
  count: number,
  cfg: Record<string, string | number> = {},
): Promise<void> {
  let cursor = "0";
  do {
    const [next, found] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 5000);
    cursor = next;
    if (found.length) await redis.del(...found);
  } while (cursor !== "0");
  await redis.hset(keys.cfg, {
    default_ttl_ms: 1_800_000,
    max_ttl_ms: 7_200_000,
    rl_hourly: 0,
    rl_daily: 0,
    admin_path: "/",
    pool_target: count,
    pool_max: count * 2,
    ...cfg,
  });
  await reserveScript.load(redis);
  await readyScript.load(redis);
  for (let done = 0; done < count; done += 1000) {
    const pipeline = redis.pipeline();
    const batch = Math.min(1000, count - done);
    const ids = Array.from({ length: batch }, newInstanceId);
    const now = Date.now();
    for (const id of ids) {
      reserveScript.queue(
        pipeline,
        { ready: keys.ready, warming: keys.warming, expiry: keys.expiry, inst: keys.inst(id), cfg: keys.cfg },
        { target: count, max: count * 2, nowMs: now, workerId: "bench", id },
      );
      readyScript.queue(pipeline, { warming: keys.warming, ready: keys.ready, inst: keys.inst(id) }, { id, nowMs: now });
    }
    await pipeline.exec();
  }
  const ready = await redis.llen(keys.ready);
  if (ready !== count) throw new Error(`filled ${ready} of ${count}`);
}

/**
 * `count` assigned instances of one app (no containers behind them): the ready list filled as
 * above, then each taken by the acquire script as a server's acquire takes it, its lookup
 * (`loc:<id>`) written as the worker writes it. Limits so high an extend always succeeds.
 */
export async function assignedIds(redis: Redis, prefix: string, app: string, count: number): Promise<string[]> {
  const keys = redisKeys(prefix).app(app);
  const huge = 10 * 365 * 86_400_000;
  await fillReadyList(redis, prefix, keys, count, { max_ttl_ms: huge, max_lifetime_ms: huge, max_extensions: 1_000_000_000 });
  const ids = await redis.lrange(keys.ready, 0, -1);
  await acquireScript.load(redis);
  for (let done = 0; done < ids.length; done += 1000) {
    const pipeline = redis.pipeline();
    for (const id of ids.slice(done, done + 1000)) {
      const now = Date.now();
      acquireScript.queue(
        pipeline,
        {
          ready: keys.ready,
          expiry: keys.expiry,
          cfg: keys.cfg,
          hourCounter: keys.rateLimit("bench", "h"),
          dayCounter: keys.rateLimit("bench", "d"),
          bucket: keys.bucket,
          keyBucket: keys.keyBucket("none"),
          spent: keys.answer("none"),
          blocks: keys.blocks,
        },
        {
          nowMs: now,
          clientIp: "bench",
          defaultHourly: 0,
          defaultDaily: 0,
          hourResetMs: 3_600_000,
          dayResetMs: 86_400_000,
          instPrefix: keys.instPrefix,
          launchOnly: 0,
          defaultLifetimeMs: huge,
          defaultMaxExtensions: 1_000_000_000,
          caller: "server",
          answer: "",
          keyRate: 0,
          blockCandidates: "",
        },
      );
      pipeline.set(redisKeys(prefix).loc(id), app);
    }
    await pipeline.exec();
  }
  const assigned = await redis.zcard(keys.expiry);
  if (assigned !== count) throw new Error(`assigned ${assigned} of ${count}`);
  return redis.zrange(keys.expiry, "0", "-1");
}

/**
 * Empties the bench deployment's jobs and events streams. A bench that acquires leaves its events
 * behind (the acquire and gate benches, hundreds of thousands), and the next worker to start would
 * write them all into MariaDB while its own bench measures: one such backlog of 126 MB cost a
 * worker 34 s of CPU during the embed bench, on the same two cores.
 */
export async function purgeBusStreams(): Promise<void> {
  const config = benchConfig();
  const nc = await connectBus(config.NATS_URL);
  try {
    const jsm = await jetstreamManager(nc);
    const names = busNames(config.VALKEY_PREFIX);
    for (const stream of [names.jobs, names.events]) await jsm.streams.purge(stream.name).catch(() => undefined);
  } finally {
    await nc.close();
  }
}

/** A real worker process of the bench's deployment (no backlog left by an earlier bench), returned once its lease is there; stop() waits until it is gone. */
export async function startBenchWorker(redis: Redis, prefix: string, env: Record<string, string> = {}) {
  await purgeBusStreams();
  const worker = spawnLogged("worker", process.execPath, ["--import", "tsx", "worker/index.ts"], env);
  await waitFor("worker lease", async () => (await redis.keys(`${prefix}worker:*`)).length > 0, 60_000);
  return {
    async stop() {
      await worker.stop();
      await waitFor("the worker's lease gone", async () => (await redis.keys(`${prefix}worker:*`)).length === 0, 30_000);
    },
  };
}

/** Waits until no container of the app is left (after its removal). */
export async function waitDrained(docker: Docker, slug: string, timeoutMs: number): Promise<void> {
  await waitFor(
    "drained",
    async () => (await docker.listContainers({ all: true, filters: { label: [`tryitnow.app=${slug}`] } })).length === 0,
    timeoutMs,
  );
}

/** The bench's Caddy, answering, with the context's runtime and routes prepared on it (stopped again if that fails). */
export async function startBenchProxy(ctx: { runtime: { prepare(): Promise<void> }; routes: { prepare(): Promise<void> } }) {
  const caddy = startBenchCaddy();
  try {
    await waitFor("bench caddy", caddyUp, 20_000);
    await ctx.runtime.prepare();
    await ctx.routes.prepare();
    return caddy;
  } catch (error) {
    await caddy.stop();
    throw error;
  }
}
