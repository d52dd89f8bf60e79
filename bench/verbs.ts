/**
 * Every API verb besides acquire, at volume (ARCHITECTURE.md, "HTTP API"): GET /api/v1/demo/<id>,
 * the same for an unknown id, POST …/extend, GET /api/v1/pool/stats and DELETE /api/v1/demo/<id>,
 * on the web with its fast path, on the same web with API_DISPATCH=next (every request through
 * Next.js's router, as before the fast path), and on the floor (bench/verbs-floor.ts: the same lib
 * functions behind a bare Node server), at concurrency 1, 10 and 50. Instances are assigned in
 * Redis with no containers behind them, as the acquire bench does.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import autocannon from "autocannon";
import { busNames, connectBus, ensureStreams } from "../lib/bus/nats";
import { loadConfig } from "../lib/config";
import { createContext } from "../lib/context";
import { newInstanceId } from "../lib/ids";
import { createRedis } from "../lib/store/redis";
import { assignedIds, BENCH_ENV, benchConfig, report, spawnLogged, startBenchProxy, waitFor } from "./common";

const APP = "bench";
const config = benchConfig();
const redis = createRedis(config);
/** Two web processes behind the bundled Caddy on HOST:PORT, as the supervisor runs them (WEB_PROCESSES=2). */
const SEVERAL: Record<string, string> = {
  PORT: "18098",
  PUBLIC_URL: "http://localhost:18098",
  WEB_PROCESSES: "2",
  WEB_PROXY_SOCKET: ".data/run/sockets/bench-verbs.sock",
};
const TARGETS = [
  { name: "floor", url: "http://127.0.0.1:18095" },
  { name: "web", url: `http://127.0.0.1:${config.PORT}` },
  { name: "web-next", url: "http://127.0.0.1:18094" },
  { name: "web x2 (Caddy)", url: "http://127.0.0.1:18098" },
] as const;
const SECONDS = Number(process.env.BENCH_VERB_SECONDS ?? 5);
const CONCURRENCY = [1, 10, 50];
/** Released ids per run: more than any target releases in SECONDS. */
const RELEASE_FILL = Number(process.env.BENCH_RELEASE_FILL ?? 60_000);

interface Verb {
  name: string;
  method: "GET" | "POST" | "DELETE";
  /** The path of the i-th request of a run. */
  path: (ids: string[], index: number) => string;
  body?: string;
  /** What a successful answer is. */
  status: number;
  /** How many assigned ids a run needs. */
  ids: number;
}

const ALL_VERBS: Verb[] = [
  { name: "get", method: "GET", path: (ids) => `/api/v1/demo/${ids[0]}`, status: 200, ids: 1 },
  { name: "unknown", method: "GET", path: (ids) => `/api/v1/demo/${ids[1]}`, status: 404, ids: 1 },
  {
    name: "extend",
    method: "POST",
    path: (ids) => `/api/v1/demo/${ids[0]}/extend`,
    body: JSON.stringify({ minutes: 1 }),
    status: 200,
    ids: 1,
  },
  { name: "stats", method: "GET", path: () => "/api/v1/pool/stats", status: 200, ids: 1 },
  { name: "release", method: "DELETE", path: (ids, index) => `/api/v1/demo/${ids[index]}`, status: 200, ids: RELEASE_FILL },
];

/** BENCH_VERBS=release,get: only those (a quick look at one verb after a change); all by default. */
const CHOSEN = process.env.BENCH_VERBS?.split(",");
const VERBS = CHOSEN ? ALL_VERBS.filter((verb) => CHOSEN.includes(verb.name)) : ALL_VERBS;

async function load(url: string, verb: Verb, ids: string[], connections: number, seconds: number) {
  let index = 0;
  let wrong = 0;
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    headers: { "content-type": "application/json", "x-api-key": BENCH_ENV.API_KEY },
    requests: [
      {
        method: verb.method,
        body: verb.body,
        setupRequest: (request) => ({ ...request, path: verb.path(ids, index++) }),
        onResponse: (status) => {
          if (status !== verb.status) wrong += 1;
        },
      },
    ],
  });
  return {
    requests: result.requests.total,
    rps: Math.round(result.requests.total / seconds),
    p50: result.latency.p50,
    p99: result.latency.p99,
    wrong,
    errors: result.errors,
  };
}

async function main() {
  const webs = [
    spawnLogged("verbs-web", process.execPath, [".next/tin-server.mjs"]),
    spawnLogged("verbs-web-next", process.execPath, [".next/tin-server.mjs"], { PORT: "18094", API_DISPATCH: "next" }),
    spawnLogged("verbs-floor", process.execPath, ["--import", "tsx", "bench/verbs-floor.ts"]),
    ...[1, 2].map((index) =>
      spawnLogged(`verbs-web-${index}`, process.execPath, [".next/tin-server.mjs"], { ...SEVERAL, WEB_INDEX: String(index) }),
    ),
  ];
  // The proxy's front for the two processes, as a worker would load it (no worker: it would reap the synthetic demos).
  const ctx = createContext(loadConfig({ ...process.env, ...BENCH_ENV, ...SEVERAL }), "bench-verbs");
  const caddy = await startBenchProxy(ctx);
  // The cleanup jobs a release publishes, and its events, need their streams (as a worker makes them).
  const nc = await connectBus(config.NATS_URL);
  const names = busNames(config.VALKEY_PREFIX);
  await ensureStreams(nc, names, { ackWaitMs: config.JOB_ACK_WAIT, maxDeliver: config.JOB_MAX_DELIVER });
  const jsm = await jetstreamManager(nc);
  const purge = async () => {
    for (const stream of [names.jobs, names.events]) await jsm.streams.purge(stream.name);
  };
  for (const target of TARGETS)
    await waitFor(target.name, async () => (await fetch(`${target.url}/api/v1/pool/stats`)).status > 0);

  const rows: Record<string, string | number>[] = [];
  const figures: { verb: string; target: string; connections: number; rps: number; p50: number; p99: number }[] = [];
  for (const verb of VERBS) {
    for (const connections of CONCURRENCY) {
      for (const target of TARGETS) {
        if (target.name.startsWith("web x2") && connections === 1) continue; // one client in series: one process serves it
        const prepare = async () => {
          const ids = await assignedIds(redis, config.VALKEY_PREFIX, APP, verb.ids);
          return [...ids, newInstanceId()];
        };
        await load(target.url, verb, await prepare(), connections, 1); // warm-up (JIT, first compile)
        const figure = await load(target.url, verb, await prepare(), connections, SECONDS);
        await purge();
        if (figure.wrong || figure.errors)
          throw new Error(
            `${verb.name} on ${target.name} at c${connections}: ${figure.wrong} wrong answers, ${figure.errors} errors`,
          );
        rows.push({
          verb: verb.name,
          target: target.name,
          connections,
          "req/s": figure.rps,
          "p50 ms": figure.p50,
          "p99 ms": figure.p99,
        });
        figures.push({ verb: verb.name, target: target.name, connections, rps: figure.rps, p50: figure.p50, p99: figure.p99 });
      }
    }
  }
  const of = (verb: string, target: string, connections: number) =>
    figures.find((f) => f.verb === verb && f.target === target && f.connections === connections);
  const ratios: Record<string, Record<string, number>> = {};
  for (const verb of VERBS)
    for (const target of TARGETS.slice(1).map((entry) => entry.name)) {
      ratios[`${verb.name} ${target}`] = Object.fromEntries(
        CONCURRENCY.filter((c) => of(verb.name, target, c)).map((c) => [
          `c${c}`,
          Math.round(((of(verb.name, target, c)?.rps ?? 0) / (of(verb.name, "floor", c)?.rps ?? 1)) * 1000) / 10,
        ]),
      );
    }
  report(
    "API verbs (assigned ids without containers; web = fast path, web-next = API_DISPATCH=next, floor = bare node + the same lib calls)",
    rows,
    {
      results: figures,
      over_floor_pct: ratios,
      note: "LOG_LEVEL=info; the web checks BENCH API_KEY; release publishes its cleanup job to JetStream (purged after each run)",
    },
  );
  await purge();
  await nc.close();
  for (const web of webs) await web.stop();
  await caddy.stop();
  await ctx.close();
  await assignedIds(redis, config.VALKEY_PREFIX, APP, 0).catch(() => undefined);
  redis.disconnect();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
