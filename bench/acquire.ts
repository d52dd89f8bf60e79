/**
 * Acquire hot path at volume. The bench app's ready list is filled through the same reserve/ready
 * scripts the worker uses, with NO containers behind the ids (this measures the hot path, not
 * Docker). POST /api/v1/demo/acquire on the real web process is driven by autocannon at several
 * concurrencies, next to the floor: a bare Node server running the same acquire script on the same Redis.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import autocannon from "autocannon";
import { busNames, connectBus, ensureStreams } from "../lib/bus/nats";
import { redisKeys } from "../lib/store/keys";
import { createRedis } from "../lib/store/redis";
import { acquireScript } from "../lib/store/scripts";
import { BENCH_ENV, benchConfig, fillReadyList, report, spawnLogged, waitFor } from "./common";

const APP = "bench";
const config = benchConfig();
const redis = createRedis(config);
const keys = redisKeys(config.VALKEY_PREFIX).app(APP);
const WEB = `http://127.0.0.1:${config.PORT}`;
const FLOOR = "http://127.0.0.1:18092";
/** The same web with ANALYTICS_EVENTS=off: what publishing the funnel events costs acquire. */
const QUIET = "http://127.0.0.1:18093";

/** `acquireRate`: the app's drain cap (acquires a minute), set so high it never bites: what checking it costs. */
function resetAndFill(count: number, acquireRate = 0): Promise<void> {
  return fillReadyList(redis, config.VALKEY_PREFIX, keys, count, { acquire_rate: acquireRate });
}

/**
 * A fixed-duration run: autocannon only notices that a fixed amount is done on its one-second tick,
 * so throughput is requests over a fixed time instead.
 */
async function load(url: string, connections: number, seconds: number) {
  const result = await autocannon({
    url: `${url}/api/v1/demo/acquire`,
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": BENCH_ENV.API_KEY },
    body: JSON.stringify({ app: APP }),
    connections,
    duration: seconds,
  });
  return {
    requests: result.requests.total,
    rps: Math.round(result.requests.total / seconds),
    mean: Math.round(result.latency.mean * 100) / 100,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

async function main() {
  // Sanity: the script itself returns OK for a filled list.
  await resetAndFill(1);
  const probe = await acquireScript.run(
    redis,
    {
      ready: keys.ready,
      expiry: keys.expiry,
      cfg: keys.cfg,
      hourCounter: keys.rateLimit("probe", "h"),
      dayCounter: keys.rateLimit("probe", "d"),
      bucket: keys.bucket,
      keyBucket: keys.keyBucket("none"),
      spent: keys.answer("none"),
      blocks: keys.blocks,
    },
    {
      nowMs: Date.now(),
      clientIp: "1",
      defaultHourly: 0,
      defaultDaily: 0,
      hourResetMs: 1,
      dayResetMs: 1,
      instPrefix: keys.instPrefix,
      launchOnly: 0,
      defaultLifetimeMs: 14_400_000,
      defaultMaxExtensions: 6,
      caller: "server",
      answer: "",
      keyRate: 0,
      blockCandidates: "",
    },
  );
  if (probe.status !== "OK") throw new Error(`acquire script answered ${probe.status}`);

  const web = spawnLogged("web", process.execPath, [".next/tin-server.mjs"]);
  const quiet = spawnLogged("web-events-off", process.execPath, [".next/tin-server.mjs"], {
    PORT: "18093",
    ANALYTICS_EVENTS: "off",
  });
  const floor = spawnLogged("floor", process.execPath, ["--import", "tsx", "bench/floor-server.ts"]);
  // The events stream exists (as a worker makes it), so the web with events on really publishes them.
  const nc = await connectBus(config.NATS_URL);
  const names = busNames(config.VALKEY_PREFIX);
  await ensureStreams(nc, names, { ackWaitMs: config.JOB_ACK_WAIT, maxDeliver: config.JOB_MAX_DELIVER });
  const purgeEvents = async () => {
    await (await jetstreamManager(nc)).streams.purge(names.events.name);
  };
  await waitFor("web", async () => (await fetch(`${WEB}/health`)).status === 200);
  await waitFor("web with events off", async () => (await fetch(`${QUIET}/health`)).status === 200);
  await waitFor("floor", async () => (await fetch(FLOOR, { method: "POST", body: "{}" })).status > 0);

  const rows: Record<string, string | number>[] = [];
  const figures: Record<string, unknown>[] = [];
  const SECONDS = 5;
  const FILL = 80_000; // more than the floor serves in SECONDS, so no run ever finds the list empty
  // Events on and off, and Redis's append-only file on and off (CONFIG SET, same server), alternate
  // over three rounds (their differences are a few per cent, less than the drift between two runs
  // minutes apart); each row is a round, the ratios use the medians.
  const ROUNDS = 3;
  const aofAtStart = ((await redis.config("GET", "appendonly")) as string[])[1];
  const setAppendOnly = async (value: "yes" | "no") => {
    await redis.config("SET", "appendonly", value);
    // Turning it on rewrites the file in the background: wait, so no run pays for that rewrite.
    await waitFor(
      "the append-only rewrite",
      async () => !/aof_rewrite_in_progress:1/.test(await redis.info("persistence")),
      60_000,
    );
  };
  for (const connections of [1, 10, 50]) {
    const plan: (readonly [string, string, string])[] = [["floor (bare node + same script)", FLOOR, "floor"]];
    for (let round = 1; round <= ROUNDS; round += 1) {
      plan.push(
        [`web POST /api/v1/demo/acquire #${round}`, WEB, "web"],
        [`web, ANALYTICS_EVENTS=off #${round}`, QUIET, "web-events-off"],
        [`web, Redis appendonly no #${round}`, WEB, "web-aof-off"],
        [`web, drain cap on (acquire_rate, never reached) #${round}`, WEB, "web-capped"],
      );
    }
    for (const [target, url, kind] of plan) {
      await setAppendOnly(kind === "web-aof-off" ? "no" : "yes");
      const rate = kind === "web-capped" ? 1_000_000_000 : 0;
      await resetAndFill(FILL, rate);
      await load(url, connections, 1); // warm-up (JIT, first route compile)
      await resetAndFill(FILL, rate);
      const figure = await load(url, connections, SECONDS);
      // A run that measured refusals measured nothing: the bench stops rather than print it.
      if (figure.non2xx || figure.errors)
        throw new Error(`${target} at c${connections}: ${figure.non2xx} non-2xx answers, ${figure.errors} errors`);
      rows.push({
        target,
        connections,
        requests: figure.requests,
        "req/s": figure.rps,
        "mean ms": figure.mean,
        "p50 ms": figure.p50,
        "p99 ms": figure.p99,
        non2xx: figure.non2xx,
        errors: figure.errors,
      });
      figures.push({ target: kind, connections, ...figure });
      if (kind === "web") await purgeEvents(); // the stream does not grow over the run
    }
  }
  const median = (kind: string, c: number) => {
    const values = figures
      .filter((f) => f.target === kind && f.connections === c)
      .map((f) => f.rps as number)
      .sort((a, b) => a - b);
    return values[Math.floor(values.length / 2)];
  };
  const ratio = (c: number, over = "floor") => Math.round((median("web", c) / median(over, c)) * 1000) / 10;
  report("acquire hot path (ready ids without containers behind them)", rows, {
    note: "ready list filled via reserve/ready scripts; no containers; LOG_LEVEL=info; web with API_KEY (key checked, token signed); Redis appendonly yes + appendfsync everysec unless the row says no",
    results: figures,
    web_over_floor_pct: { c1: ratio(1), c10: ratio(10), c50: ratio(50) },
    events_on_over_off_pct: {
      c1: ratio(1, "web-events-off"),
      c10: ratio(10, "web-events-off"),
      c50: ratio(50, "web-events-off"),
    },
    aof_on_over_off_pct: { c1: ratio(1, "web-aof-off"), c10: ratio(10, "web-aof-off"), c50: ratio(50, "web-aof-off") },
    cap_on_over_off_pct: {
      c1: Math.round((median("web-capped", 1) / median("web", 1)) * 1000) / 10,
      c10: Math.round((median("web-capped", 10) / median("web", 10)) * 1000) / 10,
      c50: Math.round((median("web-capped", 50) / median("web", 50)) * 1000) / 10,
    },
    redis_appendonly_at_start: aofAtStart,
  });
  await redis.config("SET", "appendonly", aofAtStart);
  await purgeEvents();
  await nc.close();
  await quiet.stop();
  await web.stop();
  await floor.stop();
  await resetAndFill(0).catch(() => undefined);
  redis.disconnect();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
