/**
 * Status streams at scale (ARCHITECTURE.md, "HTTP API"): one web process holding 100, 2,000 and
 * 10,000 concurrent `GET /api/v1/demo/<id>/status` streams of distinct assigned instances (no
 * containers behind them), connected straight to it (not through Caddy) from many loopback
 * addresses (127.0.x.y, each a client of its own under the per-address cap). Per step: the web's
 * RSS, Redis's commands per second against the same web with no stream, and, at the last step, the
 * time from the reap (the expire script, as the worker runs it, 100 ids a call) until every stream
 * got its `expired`. The same steps up to 2,000 through Next.js's router (API_DISPATCH=next) for
 * comparison. Needs a descriptor limit above 2 × 10,000 (scripts/bench.sh raises it).
 */

import { readFileSync } from "node:fs";
import http from "node:http";
import { redisKeys } from "../lib/store/keys";
import { createRedis } from "../lib/store/redis";
import { expireScript } from "../lib/store/scripts";
import { assignedIds, BENCH_ENV, benchConfig, report, spawnLogged, waitFor } from "./common";

const APP = "bench";
const config = benchConfig();
const redis = createRedis(config);
const keys = redisKeys(config.VALKEY_PREFIX);
const STEPS = (process.env.BENCH_STREAM_STEPS ?? "100,2000,10000").split(",").map(Number);
const NEXT_STEPS = STEPS.filter((count) => count <= 2000);
/** The per-address cap the bench runs under (SSE_MAX_PER_IP), and so the addresses it needs. */
const PER_ADDRESS = 50;
const SETTLE_MS = 5000;

interface Client {
  request: http.ClientRequest;
  expiredAtMs: number | null;
  events: number;
}

/** 127.0.x.y for the n-th client address (127.0.1.1 on: 127.0.0.1 stays the bench's own). */
const addressOf = (n: number) => `127.0.${1 + Math.floor(n / 250)}.${1 + (n % 250)}`;

function openStream(port: number, id: string, localAddress: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client: Client = { request: undefined as unknown as http.ClientRequest, expiredAtMs: null, events: 0 };
    client.request = http.get(
      {
        host: "127.0.0.1",
        port,
        path: `/api/v1/demo/${id}/status`,
        localAddress,
        agent: false,
        headers: { "X-API-Key": BENCH_ENV.API_KEY },
      },
      (response) => {
        if (response.statusCode !== 200) {
          response.resume();
          return reject(new Error(`stream of ${id} from ${localAddress}: ${response.statusCode}`));
        }
        let tail = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          const text = tail + chunk;
          client.events += chunk.split("\nevent: ").length - 1;
          if (client.expiredAtMs === null && text.includes("event: expired")) client.expiredAtMs = performance.now();
          tail = text.slice(-32);
        });
        response.on("error", () => undefined);
        resolve(client);
      },
    );
    client.request.on("error", reject);
  });
}

async function openMany(port: number, ids: string[], from: number): Promise<Client[]> {
  const clients: Client[] = [];
  for (let start = 0; start < ids.length; start += 200) {
    const batch = ids.slice(start, start + 200);
    clients.push(
      ...(await Promise.all(batch.map((id, i) => openStream(port, id, addressOf(Math.floor((from + start + i) / PER_ADDRESS)))))),
    );
  }
  return clients;
}

/** The web's V8 heap in use and its memory outside the heap (buffers, streams' native parts), from its /metrics, in MB. */
async function heapMb(port: number): Promise<{ heap: number; external: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { "X-API-Key": BENCH_ENV.API_KEY } })).text();
  const mb = (name: string) => Math.round(Number(new RegExp(`^${name} (\\S+)`, "m").exec(text)?.[1]) / 1048576);
  return { heap: mb("nodejs_heap_size_used_bytes"), external: mb("nodejs_external_memory_bytes") };
}

const rssMb = (pid: number) => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]) / 1024);

/** Redis's commands per second over `ms`, less the two INFO calls that measure it. */
async function commandsPerSecond(ms = 10_000): Promise<number> {
  const total = async () => Number(/total_commands_processed:(\d+)/.exec(await redis.info("stats"))?.[1]);
  const before = await total();
  await new Promise((resolve) => setTimeout(resolve, ms));
  return Math.round(((await total()) - before - 1) / (ms / 1000));
}

async function run(target: "web" | "web-next", port: number, steps: number[]) {
  const web = spawnLogged(`streams-${target}`, process.execPath, [".next/tin-server.mjs"], {
    PORT: String(port),
    PUBLIC_URL: `http://localhost:${port}`,
    SSE_MAX_PER_IP: String(PER_ADDRESS),
    API_DISPATCH: target === "web" ? "fast" : "next",
    LOG_LEVEL: "warn",
  });
  const pid = web.child.pid as number;
  const max = Math.max(...steps);
  const ids = await assignedIds(redis, config.VALKEY_PREFIX, APP, max);
  await waitFor(target, async () => (await fetch(`http://127.0.0.1:${port}/api/v1/pool/stats`)).status > 0);
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  const rows: Record<string, string | number>[] = [];
  const memory = async () => {
    const { heap, external } = await heapMb(port);
    return { "rss MB": rssMb(pid), "heap MB": heap, "external MB": external };
  };
  rows.push({ target, streams: 0, ...(await memory()), "redis cmd/s": await commandsPerSecond(), "open s": 0 });
  const clients: Client[] = [];
  let expiry: Record<string, number> | null = null;
  for (const count of steps) {
    const started = performance.now();
    clients.push(...(await openMany(port, ids.slice(clients.length, count), clients.length)));
    const openSeconds = Math.round((performance.now() - started) / 100) / 10;
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    rows.push({
      target,
      streams: clients.length,
      ...(await memory()),
      "redis cmd/s": await commandsPerSecond(),
      "open s": openSeconds,
    });
  }
  if (target === "web") {
    // Every instance due now; the reap as the worker runs it, 100 ids a script call, each publishing its `expired`.
    const app = keys.app(APP);
    const now = Date.now();
    for (let start = 0; start < ids.length; start += 5000)
      await redis.zadd(app.expiry, ...ids.slice(start, start + 5000).flatMap((id) => [now - 1, id]));
    const reapStart = performance.now();
    let reaped = 0;
    for (;;) {
      const expired = await expireScript.run(
        redis,
        { expiry: app.expiry, trail: app.trail },
        { nowMs: Date.now(), batch: 100, instPrefix: app.instPrefix, channel: keys.events },
      );
      if (!expired.length) break;
      reaped += expired.length;
    }
    const reapEnd = performance.now();
    await waitFor("every stream's expired", async () => clients.every((client) => client.expiredAtMs !== null), 30_000).catch(
      () => undefined,
    );
    const arrivals = clients.map((client) => client.expiredAtMs).filter((at): at is number => at !== null);
    expiry = {
      streams: clients.length,
      reaped,
      got_expired: arrivals.length,
      reap_ms: Math.round(reapEnd - reapStart),
      last_expired_after_reap_end_ms: Math.round(Math.max(...arrivals) - reapEnd),
      last_expired_after_reap_start_ms: Math.round(Math.max(...arrivals) - reapStart),
    };
  }
  for (const client of clients) client.request.destroy();
  await web.stop();
  return { rows, expiry };
}

async function main() {
  const fast = await run("web", 18096, STEPS);
  const next = await run("web-next", 18097, NEXT_STEPS);
  report(
    "status streams on one web process (distinct assigned instances, 127.0.x.y clients, straight to the web)",
    [...fast.rows, ...next.rows],
    {
      rows: [...fast.rows, ...next.rows],
      expired_to_every_stream: fast.expiry,
      note: `SSE_MAX_PER_IP=${PER_ADDRESS} per loopback address; redis cmd/s over 10 s, ${SETTLE_MS / 1000} s after the streams opened; web-next = API_DISPATCH=next`,
    },
  );
  await assignedIds(redis, config.VALKEY_PREFIX, APP, 0).catch(() => undefined);
  redis.disconnect();
  process.exit(0);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
