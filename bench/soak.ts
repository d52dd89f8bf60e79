/**
 * `npm run soak` (README, "Soak"): the product over time, on a deployment of its own run by the
 * supervisor (two web processes, every request through the proxy).
 *
 * 1. Churn for SOAK_CHURN_MINUTES (10) with SOAK_KILLS (50) SIGKILLs of web and worker processes,
 *    then the same checks as tests/churn.test.ts: counterparts, nothing twice, held demos serving.
 * 2. A steady acquire/release load for SOAK_STEADY_MINUTES (30), sampling every 10 s the RSS and
 *    open file descriptors of every process, Redis's memory, MariaDB's rows per table and
 *    JetStream's bytes; prints each series' slope (whole run and second half) and saves a chart
 *    (.data/soak/soak.png, an SVG rendered and screenshotted in Chromium) and the samples (JSON).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { chromium } from "@playwright/test";
import mysql from "mysql2/promise";
import { busNames } from "../lib/bus/nats";
import { checkCounterparts, runChurn } from "../tests/setup/churn";
import { testRedis, waitFor } from "../tests/setup/stack";
import { supervisedDatabaseUrl, supervisedStack } from "../tests/setup/supervised";

const minutes = (name: string, fallback: number) => Number(process.env[name] ?? fallback) * 60_000;
const CHURN_MS = minutes("SOAK_CHURN_MINUTES", 10);
const KILLS = Number(process.env.SOAK_KILLS ?? 50);
const STEADY_MS = minutes("SOAK_STEADY_MINUTES", 30);
const SAMPLE_MS = 10_000;
const OUT = ".data/soak";
const PROXY_PORT = 18107;
const PREFIX = "tinsoak:";
const CADDY_ADMIN = "127.0.0.1:12079";
/**
 * The soak's Caddy runs under a tighter GOMEMLIMIT than a deployment's 64MiB, so the run shows the
 * limit holding: Caddy's resident memory kept rising for as long as a soak ran while its live heap
 * stayed flat (Go keeping what each reload freed), and a series under the limit at its every sample
 * is bounded by it. A live heap that grew past the limit would push the memory over it: GROWS.
 */
const CADDY_LIMIT_MB = Number(process.env.SOAK_CADDY_LIMIT_MB ?? 24);
/**
 * NATS's resident memory rises and falls with JetStream's write buffers: heap profiles taken during a
 * soak (docs/decisions/soak-findings.md) held 12–16 MB in message-block buffers (85 % of the live
 * heap, no other site growing) and 2 MB once the load stopped; RSS swung between 23 and 47 MB. A
 * series that rises but stays under this bound (twice that swing's top) is bounded; over it, GROWS.
 */
const NATS_BOUND_MB = Number(process.env.SOAK_NATS_BOUND_MB ?? 96);

const stack = supervisedStack({
  name: "soak",
  port: 18106,
  proxyPort: PROXY_PORT,
  caddyAdmin: CADDY_ADMIN,
  prefix: PREFIX,
  network: "tin-soak-net",
  caddyMemoryLimit: `${CADDY_LIMIT_MB}MiB`,
  env: { PUBLIC_URL: `http://localhost:${PROXY_PORT}`, POOL_TARGET_SIZE: "0", LOG_LEVEL: "warn" },
});
const PROXIED = `http://localhost:${PROXY_PORT}`;
const redis = testRedis();
const say = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

async function createApp(fields: Record<string, unknown>) {
  const created = await stack.api("/api/v1/apps", {
    method: "POST",
    body: JSON.stringify({ image: "tryitnow/hello:latest", health_path: "/", pool_min: 0, bot_gate: "none", ...fields }),
  });
  if (created.status !== 201) throw new Error(`create ${fields.slug}: ${created.status} ${created.text}`);
}

const readyOf = async (slug: string) =>
  ((await stack.api("/api/v1/pool/stats")).json?.apps ?? []).find((app: { app: string }) => app.app === slug)?.ready ?? 0;

/** pid → name of every process of the deployment: the supervised ones and the services. */
function processes(): Map<string, number> {
  const found = new Map<string, number>();
  for (const name of ["web-1", "web-2", "worker-1"]) {
    const pid = stack.pidOf(name);
    if (pid) found.set(name, pid);
  }
  // The deployment's own Caddy (started by supervisedStack with its bootstrap file).
  const caddy = spawnSync("pgrep", ["-f", `${stack.data}/caddy/bootstrap.json`], { encoding: "utf8" })
    .stdout.trim()
    .split("\n")
    .pop();
  if (caddy) found.set("caddy", Number(caddy));
  for (const service of ["redis-server", "mariadbd", "nats-server", "dockerd"]) {
    try {
      found.set(service, Number(readFileSync(`.data/run/${service}.pid`, "utf8").trim()));
    } catch {
      // not started by the scripts: not sampled
    }
  }
  return found;
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? 0) / 1024;
}

const openFds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

/** Resident memory by kind: anonymous (heap, stacks) and file-backed (the binary's pages, bounded by its size). */
function rssSplitMb(pid: number): { anon: number; file: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(status.match(new RegExp(`${field}:\\s+(\\d+)`))?.[1] ?? 0);
  return { anon: Math.round((kb("RssAnon") / 1024) * 10) / 10, file: Math.round((kb("RssFile") / 1024) * 10) / 10 };
}

/** Caddy's live heap after a collection (its admin API's pprof endpoint, `gc=1`), in MB. */
async function caddyHeapMb(): Promise<number | null> {
  const text = await fetch(`http://${CADDY_ADMIN}/debug/pprof/heap?debug=1&gc=1`, { signal: AbortSignal.timeout(5000) })
    .then((response) => response.text())
    .catch(() => "");
  const bytes = Number(text.match(/# HeapAlloc = (\d+)/)?.[1]);
  return Number.isFinite(bytes) ? Math.round((bytes / 1048576) * 100) / 100 : null;
}

async function sample(db: mysql.Connection, jsm: Awaited<ReturnType<typeof jetstreamManager>>): Promise<Record<string, number>> {
  const values: Record<string, number> = {};
  for (const [name, pid] of processes()) {
    try {
      values[`rss_mb.${name}`] = Math.round(rssMb(pid) * 10) / 10;
      values[`fds.${name}`] = openFds(pid);
      if (name === "caddy") {
        const split = rssSplitMb(pid);
        values["rss_anon_mb.caddy"] = split.anon;
        values["rss_file_mb.caddy"] = split.file;
      }
    } catch {
      // restarting at this moment
    }
  }
  const heap = await caddyHeapMb();
  if (heap !== null) values["heap_mb.caddy"] = heap;
  const info = await redis.info("memory");
  values.redis_used_mb = Math.round((Number(info.match(/used_memory:(\d+)/)?.[1] ?? 0) / 1048576) * 100) / 100;
  let keys = 0;
  let history = 0;
  let cursor = "0";
  do {
    const [next, found] = await redis.scan(cursor, "MATCH", `${PREFIX}*`, "COUNT", 1000);
    cursor = next;
    const minutes = found.filter((key) => key.startsWith(`${PREFIX}history:`)).length;
    history += minutes;
    keys += found.length - minutes;
  } while (cursor !== "0");
  values.redis_keys = keys;
  values.redis_history_keys = history;
  const [tables] = (await db.query(
    "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE()",
  )) as unknown as [{ name: string }[]];
  for (const { name } of tables) {
    if (name.startsWith("__drizzle")) continue;
    const [rows] = (await db.query(`SELECT COUNT(*) AS n FROM \`${name}\``)) as unknown as [{ n: number }[]];
    values[`rows.${name}`] = Number(rows[0].n);
  }
  const names = busNames(PREFIX);
  for (const stream of [names.jobs, names.dead, names.events]) {
    const state = await jsm.streams
      .info(stream.name)
      .then((s) => s.state.bytes)
      .catch(() => null);
    if (state !== null) values[`jetstream_bytes.${stream.name}`] = state;
  }
  return values;
}

/** Least-squares slope of y over time, per hour. */
function slopePerHour(points: { t: number; y: number }[]): number {
  if (points.length < 2) return 0;
  const n = points.length;
  const mt = points.reduce((sum, p) => sum + p.t, 0) / n;
  const my = points.reduce((sum, p) => sum + p.y, 0) / n;
  const num = points.reduce((sum, p) => sum + (p.t - mt) * (p.y - my), 0);
  const den = points.reduce((sum, p) => sum + (p.t - mt) ** 2, 0);
  return den === 0 ? 0 : (num / den) * 3_600_000;
}

/**
 * Whether a series keeps growing: its mean rose from the second quarter of the run to the third and
 * again to the fourth, by more than twice the spread of its samples around their quarter's mean
 * (a process's RSS swings by tens of MB between collections), and at a pace that would add more
 * than a tenth of its level per hour. A series that fills up and levels off (a cache, a pool)
 * stops rising between the last quarters. A least-squares slope of the second half alone flagged
 * such swings of a 20-minute run as growth (six series, every one flat over the full run).
 */
function growth(points: { t: number; y: number }[]) {
  const quarters = [0, 1, 2, 3].map((q) =>
    points.slice(Math.floor((q * points.length) / 4), Math.floor(((q + 1) * points.length) / 4)),
  );
  const means = quarters.map((part) => part.reduce((sum, p) => sum + p.y, 0) / Math.max(1, part.length));
  const later = quarters.slice(1).flatMap((part, i) => part.map((p) => (p.y - means[i + 1]) ** 2));
  const spread = Math.sqrt(later.reduce((sum, d) => sum + d, 0) / Math.max(1, later.length));
  const level = points.reduce((sum, p) => sum + p.y, 0) / Math.max(1, points.length);
  const hours = points.length > 1 ? (quarters[3][0]?.t - quarters[1][0]?.t) / 3_600_000 : 0;
  const rise = means[3] - means[1];
  const grows =
    points.length >= 8 &&
    means[2] > means[1] &&
    means[3] > means[2] &&
    rise > 2 * spread &&
    hours > 0 &&
    rise / hours > 0.1 * level;
  return { means, spread, grows };
}

/** Series that grow with traffic by design, bounded by a retention setting rather than by a level. */
const RETAINED: [RegExp, string][] = [
  [
    /^rows\.(events|instance_sessions|abuse_trail|event_rollups|sessions)/,
    "kept EVENTS_RETENTION_DAYS / ABUSE_TRAIL_DAYS, then pruned",
  ],
  [/^rows\.audit_log$/, "the audit log is kept"],
  [/^jetstream_bytes\..*EVENTS/, "capped at EVENTS_STREAM_MAX_BYTES; the writer acknowledges what it stored"],
  [/^redis_history_keys$/, "the dashboard's history: one hash a minute, kept 25 h (at most 1,500)"],
  [
    /^jetstream_bytes\..*JOBS/,
    "a work queue: the cleanup jobs not yet done, each removed when acknowledged (failures go to the dead letters' stream)",
  ],
  [/^rss_mb\.mariadbd$/, "InnoDB's buffer pool filling with the growing tables' pages, up to innodb_buffer_pool_size (128 MB)"],
];

function chartHtml(samples: { t: number; values: Record<string, number> }[], series: string[]): string {
  const width = 360;
  const height = 120;
  const panels = series.map((name) => {
    const points = samples.filter((s) => name in s.values).map((s) => ({ t: s.t, y: s.values[name] }));
    const t0 = samples[0].t;
    const t1 = samples[samples.length - 1].t || t0 + 1;
    const ys = points.map((p) => p.y);
    const lo = Math.min(0, ...ys);
    const hi = Math.max(...ys, lo + 1);
    const path = points
      .map(
        (p, i) =>
          `${i ? "L" : "M"}${(((p.t - t0) / Math.max(1, t1 - t0)) * (width - 50) + 45).toFixed(1)},${(height - 20 - ((p.y - lo) / (hi - lo)) * (height - 35)).toFixed(1)}`,
      )
      .join(" ");
    return `<figure><figcaption>${name}</figcaption><svg width="${width}" height="${height}" role="img" aria-label="${name}">
      <line x1="45" y1="${height - 20}" x2="${width - 5}" y2="${height - 20}" stroke="#94a3b8"/><line x1="45" y1="15" x2="45" y2="${height - 20}" stroke="#94a3b8"/>
      <text x="40" y="20" font-size="10" text-anchor="end">${Math.round(hi * 10) / 10}</text><text x="40" y="${height - 20}" font-size="10" text-anchor="end">${Math.round(lo * 10) / 10}</text>
      <text x="45" y="${height - 5}" font-size="10">0</text><text x="${width - 5}" y="${height - 5}" font-size="10" text-anchor="end">${Math.round((t1 - t0) / 60_000)} min</text>
      <path d="${path}" fill="none" stroke="#4f46e5" stroke-width="1.5"/></svg></figure>`;
  });
  return `<!doctype html><meta charset="utf-8"><style>body{font:12px system-ui;margin:16px;color:#0f172a}main{display:grid;grid-template-columns:repeat(4,${width}px);gap:8px}figure{margin:0;background:#f8fafc;padding:4px;border-radius:6px}figcaption{font-weight:600}</style>
    <h1 style="font-size:16px">Try It Now soak: steady acquire/release load, one sample every 10 s</h1><main>${panels.join("")}</main>`;
}

async function main() {
  mkdirSync(OUT, { recursive: true });
  say(
    `starting a supervised deployment (2 web processes), churn ${CHURN_MS / 60_000} min with ${KILLS} kills, then ${STEADY_MS / 60_000} min steady`,
  );
  await stack.start();
  try {
    await createApp({
      slug: "soak",
      pool_target: 6,
      pool_max: 16,
      default_ttl_seconds: 20,
      max_ttl_seconds: 120,
      extend_minutes: 1,
    });
    await waitFor("a warm pool", async () => (await readyOf("soak")) >= 6, 120_000, 250);

    // 1. Churn under kills.
    const churn = await runChurn({
      api: PROXIED,
      apiKey: stack.env.API_KEY,
      app: "soak",
      durationMs: CHURN_MS,
      kills: KILLS,
      clients: 4,
      pidOf: stack.pidOf,
      processes: ["web-1", "web-2", "worker-1"],
      progress: (counts, elapsed) => say(`churn ${Math.round(elapsed / 1000)} s: ${JSON.stringify(counts)}`),
    });
    await waitFor("the processes back", async () => (await stack.api("/health")).json?.status === "ok", 120_000, 500);
    let problems: string[] = [];
    const settled = await waitFor(
      "counterparts",
      async () => {
        problems = await checkCounterparts({ prefix: PREFIX, app: "soak", caddyAdmin: "127.0.0.1:12079", redis });
        return problems.length === 0;
      },
      120_000,
      1000,
    ).catch(() => false);
    const verdicts = await churn.verify(PROXY_PORT);
    const churnResult = {
      counts: churn.counts,
      kills: churn.killed.length,
      duplicates: churn.duplicates.length,
      counterpartProblems: settled ? [] : problems,
      ...verdicts,
    };
    say(`churn result: ${JSON.stringify(churnResult)}`);

    // 2. Steady load with sampling.
    const db = await mysql.createConnection(supervisedDatabaseUrl);
    const nc = await connect({ servers: stack.env.NATS_URL ?? "nats://127.0.0.1:4222" });
    const jsm = await jetstreamManager(nc);
    const samples: { t: number; values: Record<string, number> }[] = [];
    const started = Date.now();
    const deadline = started + STEADY_MS;
    let cycles = 0;
    const worker = async () => {
      while (Date.now() < deadline) {
        const acquired = await fetch(`${PROXIED}/api/v1/demo/acquire`, {
          method: "POST",
          headers: { "content-type": "application/json", "X-API-Key": stack.env.API_KEY },
          body: JSON.stringify({ app: "soak" }),
        }).catch(() => null);
        const body = acquired?.ok ? ((await acquired.json()) as { id: string }) : null;
        if (!body) {
          await new Promise((resolve) => setTimeout(resolve, 250));
          continue;
        }
        await fetch(`${PROXIED}/api/v1/demo/${body.id}/status`, {
          headers: { "X-API-Key": stack.env.API_KEY },
          signal: AbortSignal.timeout(300),
        })
          .then((response) => response.body?.cancel())
          .catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, 500));
        await fetch(`${PROXIED}/api/v1/demo/${body.id}`, { method: "DELETE", headers: { "X-API-Key": stack.env.API_KEY } }).catch(
          () => undefined,
        );
        cycles += 1;
      }
    };
    const sampler = async () => {
      while (Date.now() < deadline) {
        samples.push({ t: Date.now() - started, values: await sample(db, jsm) });
        if (samples.length % 6 === 0)
          say(`steady ${Math.round((Date.now() - started) / 60_000)} min: ${cycles} acquire/release cycles`);
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + samples.length * SAMPLE_MS - Date.now())));
      }
    };
    await Promise.all([sampler(), worker(), worker(), worker()]);
    await db.end();
    await nc.close();

    const series = [...new Set(samples.flatMap((s) => Object.keys(s.values)))].sort();
    const half = samples[Math.floor(samples.length / 2)]?.t ?? 0;
    const rows = series.map((name) => {
      const points = samples.filter((s) => name in s.values).map((s) => ({ t: s.t, y: s.values[name] }));
      const mean = points.reduce((sum, p) => sum + p.y, 0) / Math.max(1, points.length);
      const whole = slopePerHour(points);
      const second = slopePerHour(points.filter((p) => p.t >= half));
      const retained = RETAINED.find(([pattern]) => pattern.test(name))?.[1];
      const { means, grows } = growth(points);
      const max = Math.max(...points.map((p) => p.y));
      // The whole RSS is the anonymous part (Go's memory, under the limit) and the file part (the binary).
      const fileMax = Math.max(0, ...samples.map((sample) => sample.values["rss_file_mb.caddy"] ?? 0));
      const capped =
        (name === "rss_anon_mb.caddy" && max <= CADDY_LIMIT_MB) || (name === "rss_mb.caddy" && max <= CADDY_LIMIT_MB + fileMax);
      const natsBounded = name === "rss_mb.nats-server" && max <= NATS_BOUND_MB;
      return {
        name,
        first: points[0]?.y,
        last: points[points.length - 1]?.y,
        mean: Math.round(mean * 100) / 100,
        slopePerHour: Math.round(whole * 100) / 100,
        secondHalfSlopePerHour: Math.round(second * 100) / 100,
        quarterMeans: means.map((m) => Math.round(m * 10) / 10),
        verdict: retained
          ? `grows with traffic: ${retained}`
          : grows && capped
            ? `bounded: at most ${max} MB, Go's part under GOMEMLIMIT=${CADDY_LIMIT_MB}MiB`
            : grows && natsBounded
              ? `bounded: at most ${max} MB, JetStream's write buffers (under ${NATS_BOUND_MB} MB)`
              : grows
                ? "GROWS"
                : "flat",
      };
    });
    console.log("\nseries | first | last | mean | slope/h (whole) | slope/h (2nd half) | quarter means | verdict");
    console.log("--- | --- | --- | --- | --- | --- | --- | ---");
    for (const row of rows)
      console.log(
        `${row.name} | ${row.first} | ${row.last} | ${row.mean} | ${row.slopePerHour} | ${row.secondHalfSlopePerHour} | ${row.quarterMeans.join(" / ")} | ${row.verdict}`,
      );
    console.log(
      `\nsteady load: ${cycles} acquire/status/release cycles in ${STEADY_MS / 60_000} min (3 clients through the proxy)`,
    );
    writeFileSync(`${OUT}/samples.json`, JSON.stringify({ churn: churnResult, samples, rows }, null, 1));
    const charted = series.filter((name) => !name.startsWith("fds.dockerd"));
    writeFileSync(`${OUT}/soak.html`, chartHtml(samples, charted));
    const browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
    });
    const page = await browser.newPage({ viewport: { width: 1540, height: 900 } });
    await page.setContent(readFileSync(`${OUT}/soak.html`, "utf8"));
    await page.screenshot({ path: `${OUT}/soak.png`, fullPage: true });
    await browser.close();
    console.log(`chart: ${OUT}/soak.png; samples: ${OUT}/samples.json`);
    console.log(
      JSON.stringify({
        bench: "soak",
        churn: churnResult,
        steady: {
          minutes: STEADY_MS / 60_000,
          cycles,
          growing: rows.filter((row) => row.verdict === "GROWS").map((row) => row.name),
        },
      }),
    );
    const failed =
      churnResult.duplicates > 0 ||
      churnResult.wrong.length > 0 ||
      churnResult.counterpartProblems.length > 0 ||
      rows.some((row) => row.verdict === "GROWS");
    process.exitCode = failed ? 1 : 0;
  } finally {
    await stack.stop();
    redis.disconnect();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
