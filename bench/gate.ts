/**
 * Drain protection on the acquire hot path (ARCHITECTURE.md, "Drain protection"): the web's
 * POST /api/v1/demo/acquire with a publishable key, driven by autocannon, in three variants
 * alternating over three rounds — plain (gate off, no caps: the baseline of this run), with the
 * proof-of-work gate (every request a fresh solved answer, verified and spent), and with both drain
 * caps on (the app's and the key's, never reached). Then challenges: issued through the endpoint,
 * and issued and verified in-process, per second.
 */
import { createHash } from "node:crypto";
import type { Challenge } from "altcha-lib";
import autocannon from "autocannon";
import { createContext } from "../lib/context";
import { checkAnswer, issueChallenge } from "../lib/gate/challenge";
import { MIRROR_MARKER } from "../lib/keys/mirror";
import { newKey } from "../lib/keys/secret";
import { redisKeys } from "../lib/store/keys";
import { benchConfig, fillReadyList, report, spawnLogged, waitFor } from "./common";

const APP = "gatebench";
const ORIGIN = "http://bench.example";
/** The bench's challenges are easy: what is measured is the server's verification, not the browser's work. */
const DIFFICULTY = 50;
const SECONDS = 5;
const FILL = 60_000;
const config = benchConfig();
const ctx = createContext(config, "bench-gate");
const keys = redisKeys(config.VALKEY_PREFIX);
const appKeys = keys.app(APP);
const WEB = `http://127.0.0.1:${config.PORT}`;
const publishable = newKey("publishable");

/** The solver the embed runs, in Node: the counter whose derived key starts with the prefix. */
function solve(challenge: Challenge): string {
  const { salt, nonce, keyPrefix } = challenge.parameters;
  const input = Buffer.concat([Buffer.from(salt, "hex"), Buffer.from(nonce, "hex"), Buffer.alloc(4)]);
  const prefix = Buffer.from(keyPrefix, "hex");
  for (let counter = 0; ; counter += 1) {
    input.writeUInt32BE(counter, input.length - 4);
    const key = createHash("sha256").update(input).digest();
    if (key.subarray(0, prefix.length).equals(prefix)) {
      return Buffer.from(JSON.stringify({ challenge, solution: { counter, derivedKey: key.toString("hex") } })).toString(
        "base64",
      );
    }
  }
}

async function answers(count: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < count; i += 1) out.push(solve(await issueChallenge(ctx, APP, DIFFICULTY)));
  return out;
}

/** The bench app's pool and settings, and the publishable key in the key mirror, as the worker would leave them. */
async function prepare(variant: "plain" | "gate" | "caps"): Promise<void> {
  await fillReadyList(ctx.redis, config.VALKEY_PREFIX, appKeys, FILL, {
    bot_gate: variant === "gate" ? "auto" : "none",
    gate_difficulty: DIFFICULTY,
    acquire_rate: variant === "caps" ? 1_000_000_000 : 0,
    extend_visit: 1,
  });
  const record = {
    id: "key_bench",
    prefix: publishable.prefix,
    kind: "publishable",
    scopes: [],
    apps: [APP],
    origins: [ORIGIN],
    acquireRate: variant === "caps" ? 100_000 : null,
  };
  await ctx.redis.hset(
    keys.apiKeys,
    publishable.hash,
    JSON.stringify(record),
    MIRROR_MARKER,
    JSON.stringify({ count: 1, at_ms: Date.now() }),
  );
}

async function load(path: string, connections: number, seconds: number, bodies: () => string) {
  const result = await autocannon({
    url: `${WEB}${path}`,
    connections,
    duration: seconds,
    requests: [
      {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": publishable.key, origin: ORIGIN },
        setupRequest: (request) => ({ ...request, body: bodies() }),
      },
    ],
  });
  return {
    requests: result.requests.total,
    rps: Math.round(result.requests.total / seconds),
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

async function perSecond(what: () => Promise<unknown>, seconds = 2): Promise<number> {
  const end = performance.now() + seconds * 1000;
  let count = 0;
  while (performance.now() < end) {
    await what();
    count += 1;
  }
  return Math.round(count / seconds);
}

async function main() {
  // The key mirror before the web starts: its first look at the keys (/health reads them) is kept for KEY_CACHE_TTL.
  await prepare("plain");
  const web = spawnLogged("web-gate", process.execPath, [".next/tin-server.mjs"], {
    KEY_CACHE_TTL: "60s",
    CHALLENGE_RATE_PER_MINUTE: "1000000000",
  });
  try {
    await waitFor("web", async () => (await fetch(`${WEB}/health`).catch(() => null))?.status === 200);
    const rows: Record<string, string | number>[] = [];
    const figures: { variant: string; connections: number; rps: number }[] = [];
    const plainBody = JSON.stringify({ app: APP });
    for (const connections of [1, 10]) {
      // Every gated request carries an answer of its own (a second use is refused), all made before
      // the runs of this concurrency and held through every variant's run, so each run's load
      // generator (this process) carries the same heap.
      const perRun = connections === 1 ? 8_000 : 18_000;
      const pool = await answers(perRun * 3);
      let next = 0;
      for (let round = 1; round <= 3; round += 1) {
        for (const variant of ["plain", "gate", "caps"] as const) {
          const body = variant === "gate" ? () => JSON.stringify({ app: APP, altcha: pool[next++] }) : () => plainBody;
          await prepare(variant);
          await load("/api/v1/demo/acquire", connections, 1, body); // warm-up
          await prepare(variant);
          const figure = await load("/api/v1/demo/acquire", connections, SECONDS, body);
          if (figure.non2xx || figure.errors || next > pool.length) {
            throw new Error(
              `${variant} at c${connections}: ${figure.non2xx} non-2xx answers, ${figure.errors} errors, ${next} of ${pool.length} answers used`,
            );
          }
          const target = {
            plain: "acquire, publishable key, gate off, no caps",
            gate: "acquire with the gate (a fresh answer verified and spent each)",
            caps: "acquire with both drain caps on (never reached)",
          }[variant];
          rows.push({
            target: `${target} #${round}`,
            connections,
            requests: figure.requests,
            "req/s": figure.rps,
            "p50 ms": figure.p50,
            "p99 ms": figure.p99,
          });
          figures.push({ variant, connections, rps: figure.rps });
        }
      }
    }
    const median = (variant: string, c: number) => {
      const values = figures
        .filter((f) => f.variant === variant && f.connections === c)
        .map((f) => f.rps)
        .sort((a, b) => a - b);
      return values[Math.floor(values.length / 2)];
    };
    const pct = (variant: string, c: number) => Math.round((median(variant, c) / median("plain", c)) * 1000) / 10;

    // Challenges through the endpoint (rate limit lifted for this web), and in-process.
    await prepare("gate");
    const endpoint = await load("/api/v1/demo/challenge", 10, SECONDS, () => plainBody);
    if (endpoint.non2xx || endpoint.errors)
      throw new Error(`challenge endpoint: ${endpoint.non2xx} non-2xx, ${endpoint.errors} errors`);
    rows.push({
      target: "POST /api/v1/demo/challenge (issued per second)",
      connections: 10,
      requests: endpoint.requests,
      "req/s": endpoint.rps,
      "p50 ms": endpoint.p50,
      "p99 ms": endpoint.p99,
    });
    const issued = await perSecond(() => issueChallenge(ctx, APP, 100_000));
    const sample = await answers(200);
    let index = 0;
    const verified = await perSecond(async () => {
      const result = await checkAnswer(ctx, APP, sample[index++ % sample.length]);
      if (!result.ok) throw new Error(`a solved answer was refused: ${result.reason}`);
    });
    rows.push({
      target: "in-process: challenges issued per second (one thread)",
      connections: 0,
      requests: issued * 2,
      "req/s": issued,
      "p50 ms": "",
      "p99 ms": "",
    });
    rows.push({
      target: "in-process: answers verified per second (one thread)",
      connections: 0,
      requests: verified * 2,
      "req/s": verified,
      "p50 ms": "",
      "p99 ms": "",
    });

    report("drain protection on the acquire hot path (ready ids without containers behind them)", rows, {
      note: "publishable key from an allowed origin; medians of three alternating rounds; the plain acquire is this run's baseline",
      results: figures,
      gate_over_plain_pct: { c1: pct("gate", 1), c10: pct("gate", 10) },
      caps_over_plain_pct: { c1: pct("caps", 1), c10: pct("caps", 10) },
      challenges_issued_per_second: { endpoint_c10: endpoint.rps, in_process: issued },
      answers_verified_per_second: verified,
    });
  } finally {
    await fillReadyList(ctx.redis, config.VALKEY_PREFIX, appKeys, 0).catch(() => undefined);
    await web.stop();
    await ctx.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
