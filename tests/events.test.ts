import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { and, count, eq, like, sql, sum } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { busNames, connectBus, ensureStreams } from "../lib/bus/nats";
import { loadConfig } from "../lib/config";
import { createContext } from "../lib/context";
import { eventRollups, events } from "../lib/db/schema";
import { emitEvent, flushEvents } from "../lib/events/publish";
import { newInstanceId } from "../lib/ids";
import { acquire, api, createApp, removeApps, waitReady } from "./helpers";
import {
  type Proc,
  startProcess,
  startWeb,
  startWorker,
  TEST_API_KEY,
  TEST_ENV,
  TEST_PREFIX,
  waitFor,
  webAnswers,
} from "./setup/stack";

/** Funnel events: published off the request path, written to MariaDB once each, lost only when counted. */
const ctx = createContext(loadConfig({ ...process.env, ...TEST_ENV, LOG_LEVEL: "silent" }), "test-events");
const apps: string[] = [];
const running = new Set<Proc>();
afterAll(async () => {
  await removeApps(apps, [...running]);
  await ctx.close();
});

let runs = 0;
function worker(env: Record<string, string> = {}) {
  runs += 1;
  const proc = startWorker(`worker-events-${process.pid}-${runs}`, env);
  running.add(proc);
  return proc;
}

async function countsOf(app: string): Promise<Record<string, number>> {
  const rows = await ctx.db
    .select({ type: events.type, n: count() })
    .from(events)
    .where(eq(events.app, app))
    .groupBy(events.type);
  return Object.fromEntries(rows.map((row) => [row.type, row.n]));
}

/** Refusals of an app by reason, from the hourly rollups (they have no raw rows). */
async function refusalsOf(app: string): Promise<Record<string, number>> {
  const rows = await ctx.db
    .select({ detail: eventRollups.detail, n: sum(eventRollups.count) })
    .from(eventRollups)
    .where(and(eq(eventRollups.app, app), eq(eventRollups.type, "rejected")))
    .groupBy(eventRollups.detail);
  return Object.fromEntries(rows.map((row) => [row.detail, Number(row.n)]));
}

describe("funnel events", () => {
  it("each step lands in MariaDB once, with its request id and a visitor key that is not the address", async () => {
    const proc = worker();
    const slug = await createApp("funnel", { pool_target: 2 });
    const empty = await createApp("funnel-empty", { pool_target: 0 });
    apps.push(slug, empty);
    await waitReady(slug, 2);
    const first = await acquire(slug);
    const second = await acquire(slug);
    expect((await api(`/api/v1/demo/${first.json.id}/extend`, { method: "POST", json: { minutes: 5 } })).status).toBe(200);
    expect((await api(`/api/v1/demo/${second.json.id}`, { method: "DELETE" })).status).toBe(200);
    expect((await acquire(empty)).status).toBe(503);

    await waitFor(
      "the events in MariaDB",
      async () => {
        const counts = await countsOf(slug);
        return (
          counts.acquired === 2 && counts.extended === 1 && counts.released === 1 && (await refusalsOf(empty)).exhausted === 1
        );
      },
      20_000,
      250,
    );
    const [acquired] = await ctx.db
      .select()
      .from(events)
      .where(and(eq(events.app, slug), eq(events.instance, first.json.id), eq(events.type, "acquired")));
    expect(acquired.requestId).toBe(first.headers.get("x-request-id"));
    expect(acquired.visitor).toMatch(/^[\w-]{32}$/);
    expect(acquired.visitor).not.toContain("127.0.0.1");
    // A refusal is counted in the rollups by its reason, never a raw row of its own.
    expect(await countsOf(empty)).toEqual({});
    // The same client the same day is the same visitor.
    const [other] = await ctx.db
      .select()
      .from(events)
      .where(and(eq(events.app, slug), eq(events.instance, second.json.id), eq(events.type, "acquired")));
    expect(other.visitor).toBe(acquired.visitor);
    await proc.stop();
    running.delete(proc);
  });

  it("a flood of refusals leaves no raw rows and a stream no bigger than its byte limit", async () => {
    const limit = 1024 * 1024;
    const proc = worker({ EVENTS_STREAM_MAX_BYTES: String(limit) });
    const names = busNames(TEST_PREFIX);
    const nc = await connectBus(loadConfig().NATS_URL);
    const jsm = await jetstreamManager(nc);
    const before = (await jsm.streams.info(names.events.name)).config.max_bytes;
    await waitFor(
      "the worker's byte limit on the stream",
      async () => (await jsm.streams.info(names.events.name)).config.max_bytes === limit,
      20_000,
      200,
    );
    for (const stream of [names.jobs, names.dead, names.events]) {
      const { config } = await jsm.streams.info(stream.name);
      expect(config.max_bytes, stream.name).toBeGreaterThan(0);
      expect(config.discard, stream.name).toBe("old");
    }
    // Real refusals through the API: an app with an empty pool.
    const empty = await createApp("flood", { pool_target: 0 });
    apps.push(empty);
    const answers = await Promise.all(Array.from({ length: 200 }, () => acquire(empty)));
    expect(answers.every((answer) => answer.status === 503)).toBe(true);
    await waitFor("the API's refusals in the rollups", async () => (await refusalsOf(empty)).exhausted === 200, 30_000, 250);
    expect(await countsOf(empty)).toEqual({});
    // And three megabytes of them straight onto the stream, as a larger flood would leave them.
    const js = jetstream(nc);
    const app = `flood-${randomUUID().slice(0, 8)}`;
    const chunk = JSON.stringify({
      events: Array.from({ length: 500 }, () => ({
        id: randomUUID(),
        type: "rejected",
        app,
        instance: null,
        atMs: Date.now(),
        request_id: null,
        visitor: null,
        data: { reason: "exhausted" },
      })),
    });
    for (let sent = 0; sent < 3 * limit; sent += chunk.length)
      await js.publish(`${names.eventsSubjectRoot}.batch`, chunk, { msgID: randomUUID() });
    expect((await jsm.streams.info(names.events.name)).state.bytes).toBeLessThanOrEqual(limit);
    // What the writer got of them is counted, never stored row by row.
    await waitFor("some of the flood in the rollups", async () => ((await refusalsOf(app)).exhausted ?? 0) > 0, 30_000, 250);
    expect(await countsOf(app)).toEqual({});
    await proc.stop();
    running.delete(proc);
    // The other tests publish more than this limit keeps: the stream gets its usual one back.
    await jsm.streams.update(names.events.name, { max_bytes: before });
    await nc.close();
  });

  it("a writer killed in the middle of the stream loses no event and doubles none", async () => {
    const app = `synthetic-${randomUUID().slice(0, 8)}`;
    const total = 20_000;
    const nc = await connectBus(loadConfig().NATS_URL);
    const js = jetstream(nc);
    const subject = `${busNames(TEST_PREFIX).eventsSubjectRoot}.impression`;
    for (let start = 0; start < total; start += 500) {
      await Promise.all(
        Array.from({ length: Math.min(500, total - start) }, () => {
          const id = randomUUID();
          const event = {
            id,
            type: "impression",
            app,
            instance: null,
            atMs: Date.now(),
            request_id: null,
            visitor: null,
            data: {},
          };
          return js.publish(subject, JSON.stringify(event), { msgID: id });
        }),
      );
    }
    await nc.close();
    const rowsOf = async () => (await ctx.db.select({ n: count() }).from(events).where(like(events.app, app)))[0].n;
    const doomed = worker();
    await waitFor("the first rows", async () => (await rowsOf()) > 0, 30_000, 20);
    await doomed.stop("SIGKILL");
    running.delete(doomed);
    const atKill = await rowsOf();
    const survivor = worker();
    await waitFor(`all ${total} rows (${atKill} when the writer was killed)`, async () => (await rowsOf()) >= total, 90_000, 250);
    // Everything redelivered after the ack wait is ignored by the primary key: exactly one row each,
    // and counted once in the hourly rollups.
    expect(await rowsOf()).toBe(total);
    const [rolled] = await ctx.db
      .select({ n: sql<string>`SUM(${eventRollups.count})` })
      .from(eventRollups)
      .where(eq(eventRollups.app, app));
    expect(Number(rolled.n)).toBe(total);
    await survivor.stop();
    running.delete(survivor);
  });

  it("with NATS down, acquire answers as before and the lost events are counted", async () => {
    mkdirSync(".data/test-nats-events", { recursive: true });
    const nats = startProcess("nats-events", "nats-server", [
      "-a",
      "127.0.0.1",
      "-p",
      "14223",
      "-js",
      "-sd",
      ".data/test-nats-events",
    ]);
    running.add(nats);
    const env = { NATS_URL: "nats://127.0.0.1:14223" };
    const web = startWeb({ ...env, PORT: "18085" }, "web-events");
    running.add(web);
    const proc = worker({ ...env, RECONCILE_INTERVAL: "2s" });
    await waitFor("the web of this test", () => webAnswers(18085), 60_000, 250);
    const slug = await createApp("nonats-ev", { pool_target: 2 });
    apps.push(slug);
    await waitReady(slug, 2, 60_000);
    await nats.stop("SIGKILL");
    running.delete(nats);
    const dropped = async () => {
      const response = await fetch("http://127.0.0.1:18085/metrics", { headers: { "X-API-Key": TEST_API_KEY } });
      const line = (await response.text()).split("\n").filter((l) => l.startsWith("tin_events_dropped_total"));
      return line.reduce((sum, l) => sum + Number(l.split(" ").pop()), 0);
    };
    const before = await dropped();
    for (let i = 0; i < 2; i += 1) {
      const started = performance.now();
      const response = await fetch("http://127.0.0.1:18085/api/v1/demo/acquire", {
        method: "POST",
        headers: { "content-type": "application/json", "X-API-Key": TEST_API_KEY },
        body: JSON.stringify({ app: slug }),
      });
      expect(response.status).toBe(200);
      expect(performance.now() - started).toBeLessThan(500);
    }
    await waitFor("the dropped events to be counted", async () => (await dropped()) >= before + 2, 15_000, 250);
    await proc.stop();
    running.delete(proc);
    await web.stop();
    running.delete(web);
  });

  it("a batch whose first event repeats an earlier one's id still delivers the others (a visit is seen again)", async () => {
    const proc = worker();
    const app = `dup-${randomUUID().slice(0, 8)}`;
    const [a, b] = [newInstanceId(), newInstanceId()];
    emitEvent(ctx, { type: "visited", id: `vi-${a}`, app, instance: a });
    await flushEvents(ctx);
    // The next flush starts with the same id: JetStream's duplicate window must not swallow b.
    emitEvent(ctx, { type: "visited", id: `vi-${a}`, app, instance: a });
    emitEvent(ctx, { type: "visited", id: `vi-${b}`, app, instance: b });
    await flushEvents(ctx);
    await waitFor(
      "both visits",
      async () => (await ctx.db.select().from(events).where(eq(events.app, app))).length === 2,
      20_000,
      250,
    );
    await proc.stop();
    running.delete(proc);
  });

  it("each context publishes to its own deployment's stream, whichever context emitted first", async () => {
    const other = createContext(
      loadConfig({ ...process.env, ...TEST_ENV, VALKEY_PREFIX: "tintest-otherbus:", LOG_LEVEL: "silent" }),
      "test-events-other",
    );
    const nc = await other.bus();
    const jsm = await jetstreamManager(nc);
    const streams = [other.busNames.jobs, other.busNames.dead, other.busNames.events];
    for (const stream of streams) await jsm.streams.delete(stream.name).catch(() => false); // an earlier run's
    await ensureStreams(nc, other.busNames, { ackWaitMs: 30_000, maxDeliver: 3 });
    try {
      const [mine, theirs] = [`own-${randomUUID().slice(0, 8)}`, `other-${randomUUID().slice(0, 8)}`];
      // Both within one flush interval: one buffer for both would publish the second with the first's names.
      emitEvent(ctx, { type: "impression", app: mine });
      emitEvent(other, { type: "impression", app: theirs });
      await Promise.all([flushEvents(ctx), flushEvents(other)]);
      const last = await jsm.streams.getMessage(other.busNames.events.name, {
        last_by_subj: `${other.busNames.eventsSubjectRoot}.batch`,
      });
      expect(last, "a batch on the other deployment's stream").toBeTruthy();
      expect((last!.json() as { events: { app: string }[] }).events.map((event) => event.app)).toEqual([theirs]);
      expect((await jsm.streams.info(other.busNames.events.name)).state.messages).toBe(1);
    } finally {
      for (const stream of streams) await jsm.streams.delete(stream.name).catch(() => false);
      await other.close();
    }
  });
});
