/**
 * Funnel events (ARCHITECTURE.md, "Funnel analytics"), two figures with their baselines:
 * 1. Ingest: N events published to TRYIT_EVENTS in messages of 500 (as the web processes do), then
 *    written by the real writer (`writeEvents`: INSERT IGNORE, exact rollups, sessions, ack after
 *    commit) — against plain multi-row INSERTs of the same rows into a copy of the table, same run.
 * 2. The beacon endpoint (POST /api/v1/events) on the real web process under autocannon — against a
 *    bare Node server making the same Redis calls (the per-address counter and the app check).
 */
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import autocannon from "autocannon";
import { count, eq, sql } from "drizzle-orm";
import { busNames, ensureStreams } from "../lib/bus/nats";
import { createContext } from "../lib/context";
import { eventRollups, events, instanceSessions } from "../lib/db/schema";
import type { AnalyticsEvent } from "../lib/events/model";
import { writeEvents } from "../lib/events/write";
import { newInstanceId } from "../lib/ids";
import { windowCountScript } from "../lib/store/scripts";
import { benchConfig, report, spawnLogged, waitFor } from "./common";

const config = benchConfig();
const ctx = createContext({ ...config, LOG_LEVEL: "warn" }, "bench-events");
const INGEST_APP = "bench-ingest";
const TOTAL = 50_000;
const WEB = `http://127.0.0.1:${config.PORT}`;
const FLOOR_PORT = 18094;
const SITE = "http://site.localhost:18095";
const PERSON = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

/** A plausible mix: mostly impressions, fewer clicks, some demos and their visits and ends. */
function syntheticEvents(total: number): AnalyticsEvent[] {
  const list: AnalyticsEvent[] = [];
  const now = Date.now();
  while (list.length < total) {
    const base = {
      app: INGEST_APP,
      request_id: randomUUID(),
      visitor: "v".repeat(32),
      atMs: now - Math.floor(Math.random() * 7_200_000),
    };
    for (let i = 0; i < 6; i += 1)
      list.push({ ...base, id: randomUUID(), type: "impression", instance: null, data: { page: "/pricing?utm_source=bench" } });
    list.push({ ...base, id: randomUUID(), type: "click", instance: null, data: { page: "/pricing" } });
    const instance = newInstanceId();
    list.push({ ...base, id: randomUUID(), type: "acquired", instance, data: {} });
    list.push({ ...base, id: `vi-${instance}`, type: "visited", instance, data: {} });
    list.push({ ...base, id: randomUUID(), type: "expired", instance, data: {} });
  }
  return list.slice(0, total);
}

async function clearIngest(): Promise<void> {
  await ctx.db.delete(events).where(eq(events.app, INGEST_APP));
  await ctx.db.delete(eventRollups).where(eq(eventRollups.app, INGEST_APP));
  await ctx.db.delete(instanceSessions).where(eq(instanceSessions.app, INGEST_APP));
}

async function ingest(): Promise<Record<string, string | number>[]> {
  const nc = await ctx.bus();
  const names = busNames(config.VALKEY_PREFIX);
  await ensureStreams(nc, names, { ackWaitMs: config.JOB_ACK_WAIT, maxDeliver: config.JOB_MAX_DELIVER });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.purge(names.events.name);
  await clearIngest();
  const list = syntheticEvents(TOTAL);

  // Baseline: the same rows, plain multi-row INSERTs of 1,000 into a copy of the table.
  await ctx.db.execute(sql`DROP TABLE IF EXISTS events_plain`);
  await ctx.db.execute(sql`CREATE TABLE events_plain LIKE events`);
  const rows = list.map((e) => ({
    id: e.id,
    type: e.type,
    app: e.app,
    instance: e.instance,
    at: new Date(e.atMs),
    requestId: e.request_id,
    visitor: e.visitor,
    data: e.data,
  }));
  let started = performance.now();
  for (let start = 0; start < rows.length; start += 1000) {
    const chunk = rows.slice(start, start + 1000);
    const values = sql.join(
      chunk.map(
        (r) =>
          sql`(${r.id}, ${r.type}, ${r.app}, ${r.instance}, ${r.at}, ${r.requestId}, ${r.visitor}, ${JSON.stringify(r.data)})`,
      ),
      sql`, `,
    );
    await ctx.db.execute(sql`INSERT INTO events_plain (id, type, app, instance, at, request_id, visitor, data) VALUES ${values}`);
  }
  const plainSeconds = (performance.now() - started) / 1000;
  await ctx.db.execute(sql`DROP TABLE events_plain`);

  // Published as the web processes publish them: messages of 500 events.
  const js = jetstream(nc);
  for (let start = 0; start < list.length; start += 500) {
    const chunk = list.slice(start, start + 500);
    await js.publish(`${names.eventsSubjectRoot}.batch`, JSON.stringify({ events: chunk }), { msgID: `batch-${chunk[0].id}` });
  }
  let stopped = false;
  started = performance.now();
  const writer = writeEvents(ctx, ctx.log, () => stopped);
  const stored = async () => (await ctx.db.select({ n: count() }).from(events).where(eq(events.app, INGEST_APP)))[0].n;
  await waitFor("every event in MariaDB", async () => (await stored()) >= TOTAL, 300_000);
  const writerSeconds = (performance.now() - started) / 1000;
  stopped = true;
  await writer;
  const [rolled] = await ctx.db
    .select({ n: sql<string>`SUM(${eventRollups.count})` })
    .from(eventRollups)
    .where(eq(eventRollups.app, INGEST_APP));
  if (Number(rolled.n) !== TOTAL) throw new Error(`rollups count ${rolled.n}, not ${TOTAL}`);
  await clearIngest();
  await jsm.streams.purge(names.events.name);
  return [
    {
      path: "plain multi-row INSERT (1,000 rows each), no bus",
      events: TOTAL,
      seconds: round(plainSeconds),
      "events/s": Math.round(TOTAL / plainSeconds),
    },
    {
      path: "JetStream → writer (INSERT IGNORE, rollups, sessions, ack)",
      events: TOTAL,
      seconds: round(writerSeconds),
      "events/s": Math.round(TOTAL / writerSeconds),
    },
  ];
}

const round = (n: number) => Math.round(n * 100) / 100;

/** The floor for beacons: the same two Redis calls, a 204, nothing else. */
function startFloor(app: string) {
  const keys = ctx.keys;
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", async () => {
      const minute = Math.floor(Date.now() / 60_000);
      await Promise.all([
        windowCountScript.run(ctx.redis, { counter: keys.beacons(req.socket.remoteAddress ?? "", minute) }, { windowMs: 60_000 }),
        ctx.redis.exists(keys.app(app).cfg),
      ]);
      res.writeHead(204).end();
    });
  });
  return new Promise<typeof server>((resolve) => server.listen(FLOOR_PORT, "127.0.0.1", () => resolve(server)));
}

async function beacons(): Promise<Record<string, string | number>[]> {
  const web = spawnLogged("web-beacons", process.execPath, [".next/tin-server.mjs"], { BEACON_RATE_PER_MINUTE: "0" });
  await waitFor("web", async () => (await fetch(`${WEB}/health`)).status === 200);
  const call = (path: string, body: unknown) =>
    fetch(`${WEB}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": config.API_KEY },
      body: JSON.stringify(body),
    });
  const app = `beacons-${randomUUID().slice(0, 6)}`;
  await call("/api/v1/apps", { slug: app, image: "tryitnow/hello:latest", pool_target: 0, pool_min: 0 });
  const key = await (
    await call("/api/v1/keys", { name: "bench beacons", kind: "publishable", apps: [app], allowed_origins: [SITE] })
  ).json();
  const floor = await startFloor(app);
  const body = JSON.stringify({
    type: "impression",
    app,
    page: `${SITE}/pricing?utm_source=bench`,
    referrer: "https://news.example/",
  });
  const headers = { "content-type": "text/plain;charset=UTF-8", origin: SITE, "user-agent": PERSON };
  const rows: Record<string, string | number>[] = [];
  for (const connections of [10, 50]) {
    for (const [target, url] of [
      ["floor (bare node, same Redis calls)", `http://127.0.0.1:${FLOOR_PORT}/`],
      ["web POST /api/v1/events", `${WEB}/api/v1/events?key=${key.key}`],
    ] as const) {
      await autocannon({ url, method: "POST", headers, body, connections, duration: 1 });
      const result = await autocannon({ url, method: "POST", headers, body, connections, duration: 5 });
      rows.push({
        target,
        connections,
        "req/s": Math.round(result.requests.total / 5),
        "p50 ms": result.latency.p50,
        "p99 ms": result.latency.p99,
        non2xx: result.non2xx,
        errors: result.errors,
      });
    }
  }
  floor.close();
  await fetch(`${WEB}/api/v1/keys/${key.id}`, { method: "DELETE", headers: { "x-api-key": config.API_KEY } });
  await fetch(`${WEB}/api/v1/apps/${app}`, { method: "DELETE", headers: { "x-api-key": config.API_KEY } });
  await web.stop();
  await jetstreamManager(await ctx.bus()).then((jsm) => jsm.streams.purge(busNames(config.VALKEY_PREFIX).events.name));
  return rows;
}

async function main() {
  const ingestRows = await ingest();
  report("funnel events: ingest into MariaDB", ingestRows, {
    note: `${TOTAL} events (60 % impressions, 10 % clicks, 10 % each acquired/visited/expired); writer = worker code in-process`,
    results: ingestRows,
  });
  const beaconRows = await beacons();
  report("funnel events: the embed's beacon endpoint", beaconRows, {
    note: "autocannon 5 s after a 1 s warm-up; text/plain JSON with ?key=, an allowed Origin and a browser user agent",
    results: beaconRows,
  });
  await ctx.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
