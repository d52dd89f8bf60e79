import { appendFileSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { and, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureStreams } from "../lib/bus/nats";
import { loadConfig } from "../lib/config";
import { createContext } from "../lib/context";
import { eventRollups, events, instanceSessions } from "../lib/db/schema";
import { pruneEvents } from "../lib/events/retention";
import { VisitsReader } from "../lib/events/visits";
import { writeEvents } from "../lib/events/write";
import { newInstanceId } from "../lib/ids";
import { acquire, api, createApp, removeApps, uniqueSlug, waitReady } from "./helpers";
import { type Proc, startWeb, startWorker, TEST_ENV, waitFor, webAnswers } from "./setup/stack";

/** Funnel analytics against the real stack: conversions, the embed's beacons, visits from Caddy's log, retention, the funnel API. */
const ctx = createContext(loadConfig({ ...process.env, ...TEST_ENV, LOG_LEVEL: "silent" }), "test-analytics");
const apps: string[] = [];
const running = new Set<Proc>();
const SITE = "http://shop.example.localhost:4000";
const PERSON = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
let slug = "";
let publishable = "";
const keyIds: string[] = [];

beforeAll(async () => {
  const worker = startWorker(`worker-analytics-${process.pid}`);
  running.add(worker);
  slug = await createApp("analytics", { pool_target: 2 });
  apps.push(slug);
  const key = await api("/api/v1/keys", {
    method: "POST",
    json: { name: "analytics site", kind: "publishable", apps: [slug], allowed_origins: [SITE] },
  });
  expect(key.status).toBe(201);
  publishable = key.json.key;
  keyIds.push(key.json.id);
  await waitReady(slug, 2);
}, 90_000);

afterAll(async () => {
  for (const id of keyIds) await api(`/api/v1/keys/${id}`, { method: "DELETE" });
  await removeApps(apps, [...running]);
  await ctx.close();
});

async function newKey(body: Record<string, unknown>): Promise<string> {
  const made = await api("/api/v1/keys", { method: "POST", json: { name: "analytics test", ...body } });
  expect(made.status).toBe(201);
  keyIds.push(made.json.id);
  return made.json.key;
}

const rowsOf = (app: string, type: string) =>
  ctx.db
    .select()
    .from(events)
    .where(and(eq(events.app, app), eq(events.type, type)));

describe("conversions", () => {
  it("need a secret key with events:write, count once per label, and are accepted after the instance ended", async () => {
    const { json: demo } = await acquire(slug);
    const path = `/api/v1/demo/${demo.id}/convert`;
    expect((await api(path, { method: "POST", json: {}, key: publishable, headers: { Origin: SITE } })).status).toBe(403);
    const noScope = await newKey({ kind: "secret", scopes: ["demo"] });
    const refused = await api(path, { method: "POST", json: {}, key: noScope });
    expect(refused.status).toBe(403);
    expect(refused.json.error).toContain("events:write");
    const writer = await newKey({ kind: "secret", scopes: ["events:write"] });
    expect((await api(path, { method: "POST", json: { label: "x".repeat(65) }, key: writer })).status).toBe(400);
    expect((await api(path, { method: "POST", json: { currency: "euro" }, key: writer })).status).toBe(400);
    expect((await api("/api/v1/demo/aaaaaaaaaaaaaaaaaaaa/convert", { method: "POST", json: {}, key: writer })).status).toBe(404);

    const first = await api(path, { method: "POST", json: { label: "signup", value: 12.5, currency: "EUR" }, key: writer });
    expect(first.status).toBe(202);
    expect(first.json).toMatchObject({ id: demo.id, app: slug, label: "signup", value: 12.5, currency: "EUR" });
    expect((await api(path, { method: "POST", json: { label: "signup" }, key: writer })).status).toBe(202);
    // Released: the session row in MariaDB still knows it.
    expect((await api(`/api/v1/demo/${demo.id}`, { method: "DELETE" })).status).toBe(200);
    await waitFor("the session's end in MariaDB", async () => {
      const [row] = await ctx.db.select().from(instanceSessions).where(eq(instanceSessions.instance, demo.id));
      return Boolean(row?.endedAt);
    });
    expect((await api(path, { method: "POST", json: { label: "paid" }, key: writer })).status).toBe(202);
    await waitFor("both conversions", async () => (await rowsOf(slug, "converted")).length === 2);
    const [session] = await ctx.db.select().from(instanceSessions).where(eq(instanceSessions.instance, demo.id));
    expect(session.conversions).toBe(2);
    expect(session.endedHow).toBe("released");
    const rollups = await ctx.db
      .select({ detail: eventRollups.detail, n: sql<string>`SUM(${eventRollups.count})` })
      .from(eventRollups)
      .where(and(eq(eventRollups.app, slug), eq(eventRollups.type, "converted")))
      .groupBy(eventRollups.detail);
    expect(Object.fromEntries(rollups.map((r) => [r.detail, Number(r.n)]))).toEqual({ first: 1, again: 1 });

    // Seven days after its end an instance can no longer be credited.
    await ctx.db
      .update(instanceSessions)
      .set({ endedAt: new Date(Date.now() - 8 * 86_400_000) })
      .where(eq(instanceSessions.instance, demo.id));
    const late = await api(path, { method: "POST", json: { label: "late" }, key: writer });
    expect(late.status).toBe(404);
    expect(late.json.error).toContain("7 days");
  });
});

describe("beacons", () => {
  const beacon = (body: unknown, init: { origin?: string; ua?: string; key?: string | null } = {}) =>
    fetch(`http://127.0.0.1:${TEST_ENV.PORT}/api/v1/events${init.key === null ? "" : `?key=${init.key ?? publishable}`}`, {
      method: "POST",
      headers: { "content-type": "text/plain;charset=UTF-8", origin: init.origin ?? SITE, "user-agent": init.ua ?? PERSON },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });

  it("keep only the page's path and utm_* parameters and the referrer's origin; bots are answered and not counted", async () => {
    const page = `${SITE}/pricing/${Date.now()}?utm_source=mail&utm_campaign=fall&email=someone%40example.com#top`;
    expect((await beacon({ type: "impression", app: slug, page, referrer: "https://news.example/story?id=7" })).status).toBe(204);
    expect(
      (
        await beacon(
          { type: "click", app: slug, page: `${SITE}/robots-only` },
          { ua: "Googlebot/2.1 (+http://www.google.com/bot.html)" },
        )
      ).status,
    ).toBe(204);
    expect(
      (await beacon({ type: "click", app: slug, page: `${SITE}/headless-only` }, { ua: "Mozilla/5.0 HeadlessChrome/120.0.0.0" }))
        .status,
    ).toBe(204);
    expect((await beacon({ type: "click", app: slug, page })).status).toBe(204);
    await waitFor(
      "the impression and the click",
      async () => (await rowsOf(slug, "impression")).length === 1 && (await rowsOf(slug, "click")).length === 1,
    );
    const [impression] = await rowsOf(slug, "impression");
    expect(impression.data).toEqual({
      page: `${new URL(page).pathname}?utm_source=mail&utm_campaign=fall`,
      referrer: "https://news.example",
    });
    expect(impression.visitor).toMatch(/^[\w-]{32}$/);
    // The bots' clicks never arrive, however long one waits for the writer.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await rowsOf(slug, "click")).length).toBe(1);
  });

  it("refuse what is not a beacon of this key's site: other types, big bodies, other origins, other apps, no key", async () => {
    const bad = await beacon({ type: "acquired", app: slug });
    expect(bad.status).toBe(400);
    expect((await beacon({ type: "impression", app: slug, extra: 1 })).status).toBe(400);
    expect((await beacon({ type: "impression", app: slug, page: "x".repeat(3000) })).status).toBe(413);
    expect((await beacon("not json")).status).toBe(400);
    expect((await beacon({ type: "impression", app: slug }, { origin: "http://evil.localhost" })).status).toBe(403);
    // Another app than the key's is answered as an app that does not exist.
    expect((await beacon({ type: "impression", app: "default" })).status).toBe(404);
    expect((await beacon({ type: "impression", app: slug }, { key: null })).status).toBe(401);
    expect((await beacon({ type: "impression", app: slug }, { key: "tin_pk_forged" })).status).toBe(401);
  });

  it("are limited per client address, with Retry-After", async () => {
    // Behind a trusted proxy, so each test run is a client address of its own (documentation range).
    const web = startWeb({ PORT: "18087", BEACON_RATE_PER_MINUTE: "3", TRUSTED_PROXIES: "127.0.0.1/32, ::1" }, "web-beacons");
    running.add(web);
    await waitFor("the web of this test", () => webAnswers(18087), 60_000, 250);
    const client = `198.51.100.${1 + Math.floor(Math.random() * 250)}`;
    const send = (forwardedFor: string) =>
      fetch(`http://127.0.0.1:18087/api/v1/events?key=${publishable}`, {
        method: "POST",
        headers: { "content-type": "text/plain", origin: SITE, "user-agent": PERSON, "x-forwarded-for": forwardedFor },
        body: JSON.stringify({ type: "impression", app: slug }),
      });
    const statuses: number[] = [];
    let retryAfter = "";
    for (let i = 0; i < 5; i += 1) {
      const response = await send(client);
      statuses.push(response.status);
      if (response.status === 429) retryAfter = response.headers.get("retry-after") ?? "";
    }
    // The minute may turn over between two beacons: then the count starts again, but never before three.
    expect(statuses.slice(0, 3)).toEqual([204, 204, 204]);
    expect(statuses).toContain(429);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    // Another address has its own allowance.
    expect((await send(`203.0.113.${1 + Math.floor(Math.random() * 250)}`)).status).toBe(204);
    await web.stop();
    running.delete(web);
  }, 90_000);
});

describe("visits from the proxy's access log", () => {
  const dir = resolve(".data/test-visits");
  const file = `${dir}/access.log`;
  const visitsCtx = createContext(
    loadConfig({ ...process.env, ...TEST_ENV, VALKEY_PREFIX: "tintest-visits:", LOG_LEVEL: "silent" }),
    "test-visits",
  );
  // The events writer is the sessions' only writer: the reader's events reach them through it.
  let stopWriting = false;
  let writing: Promise<void> = Promise.resolve();
  beforeAll(async () => {
    await ensureStreams(await visitsCtx.bus(), visitsCtx.busNames, { ackWaitMs: 30_000, maxDeliver: 3 });
    writing = writeEvents(visitsCtx, visitsCtx.log, () => stopWriting);
  });
  afterAll(async () => {
    stopWriting = true;
    await writing;
    await visitsCtx.close();
  });
  const line = (id: string, tsMs: number) =>
    `${JSON.stringify({ ts: tsMs / 1000, request: { host: `${id}.localhost:18081`, uri: "/" }, status: 200 })}\n`;
  const sessionOf = async (id: string) =>
    (await ctx.db.select().from(instanceSessions).where(eq(instanceSessions.instance, id)))[0];
  /** The session once the writer has applied what the reader published (it batches: up to 3 s). */
  const settledSession = (id: string, requests: number) =>
    waitFor(
      `${requests} requests on ${id}'s session`,
      async () => {
        const row = await sessionOf(id);
        return row?.requests === requests ? row : null;
      },
      15_000,
      200,
    );

  it("credits running instances (and ended ones up to their end), follows a rotation and keeps its cursor across readers", async () => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    await visitsCtx.redis.del(visitsCtx.keys.visitsCursor, visitsCtx.keys.visitsLease);
    const app = uniqueSlug("visits");
    const [a, b, ended, unknown, late] = [newInstanceId(), newInstanceId(), newInstanceId(), newInstanceId(), newInstanceId()];
    await visitsCtx.redis.set(visitsCtx.keys.loc(a), app);
    await visitsCtx.redis.set(visitsCtx.keys.loc(b), app);
    const t0 = Date.now() - 60_000;
    await ctx.db
      .insert(instanceSessions)
      .values({ instance: ended, app, assignedAt: new Date(t0 - 10_000), endedAt: new Date(t0 + 5_000), endedHow: "expired" });
    writeFileSync(
      file,
      line(a, t0) +
        line(a, t0 + 1000) +
        line(unknown, t0) +
        `${JSON.stringify({ ts: t0 / 1000, request: { host: "www.localhost" } })}\n` +
        "not json\n" +
        line(ended, t0 + 1000) +
        line(ended, t0 + 9000) +
        line(late, t0 + 500) +
        line(a, t0 + 2000).slice(0, 20), // a line Caddy is still writing
    );
    const first = new VisitsReader(visitsCtx, visitsCtx.log, "reader-1", file);
    expect(await first.tick()).toBe(8);
    expect(await settledSession(a, 2)).toMatchObject({ firstVisitAt: new Date(t0), lastRequestAt: new Date(t0 + 1000) });
    await settledSession(ended, 1); // the request after its end was a 404, not a visit
    expect(await sessionOf(unknown)).toBeUndefined();
    // The visited step, once per instance, beside the requests.
    const steps = await ctx.db
      .select()
      .from(events)
      .where(and(eq(events.instance, a), eq(events.type, "visited")));
    expect(steps).toHaveLength(1);

    // A reader that died after publishing a chunk and before moving its cursor reads the same chunk
    // again, to the same end: its events have the same ids, and nothing is counted twice.
    const saved = await visitsCtx.redis.hgetall(visitsCtx.keys.visitsCursor);
    await visitsCtx.redis.hset(visitsCtx.keys.visitsCursor, { offset: 0, end: saved.offset });
    expect(await new VisitsReader(visitsCtx, visitsCtx.log, "reader-1", file).tick()).toBe(8);
    await new Promise((resolve) => setTimeout(resolve, 4000)); // the writer's next batch
    expect((await sessionOf(a)).requests).toBe(2);
    expect((await sessionOf(ended)).requests).toBe(1);
    // An instance that ended before the read, its session row not written yet: its requests wait, and
    // count once the row arrives.
    expect(await sessionOf(late)).toBeUndefined();
    await ctx.db
      .insert(instanceSessions)
      .values({ instance: late, app, assignedAt: new Date(t0 - 1000), endedAt: new Date(t0 + 2000), endedHow: "released" });
    expect(await first.tick()).toBe(0);
    await settledSession(late, 1);

    // The rest of the half-written line arrives; then Caddy rotates the file after two more lines.
    appendFileSync(file, line(a, t0 + 2000).slice(20) + line(a, t0 + 3000));
    renameSync(file, `${dir}/access-2026-11-29T00-00-00.000.log`);
    appendFileSync(`${dir}/access-2026-11-29T00-00-00.000.log`, line(a, t0 + 4000));
    writeFileSync(file, line(b, t0 + 5000));
    // Another worker takes over (the first one's lease lapsed): it goes on from the saved cursor.
    await visitsCtx.redis.del(visitsCtx.keys.visitsLease);
    const second = new VisitsReader(visitsCtx, visitsCtx.log, "reader-2", file);
    expect(await second.tick()).toBe(4);
    expect(await first.tick()).toBe(0); // not its lease any more
    expect(await settledSession(a, 5)).toMatchObject({ lastRequestAt: new Date(t0 + 4000) });
    expect(await settledSession(b, 1)).toMatchObject({ firstVisitAt: new Date(t0 + 5000) });
    expect(await second.tick()).toBe(0); // nothing new: nothing counted twice
    await new Promise((resolve) => setTimeout(resolve, 4000));
    expect((await sessionOf(a)).requests).toBe(5);
    await ctx.db.delete(instanceSessions).where(eq(instanceSessions.app, app));
  });
});

describe("retention and the funnel API", () => {
  it("prunes raw events and sessions past EVENTS_RETENTION_DAYS and keeps the hourly rollups", async () => {
    const app = uniqueSlug("retention");
    const old = new Date(Date.now() - 100 * 86_400_000);
    const recent = new Date(Date.now() - 86_400_000);
    const row = (id: string, at: Date) => ({
      id,
      type: "impression",
      app,
      instance: null,
      at,
      requestId: null,
      visitor: null,
      data: {},
    });
    await ctx.db.insert(events).values([row(`old-${app}`, old), row(`new-${app}`, recent)]);
    await ctx.db.insert(instanceSessions).values([
      { instance: newInstanceId(), app, assignedAt: old, endedAt: old },
      { instance: newInstanceId(), app, assignedAt: old, endedAt: recent },
    ]);
    await ctx.db.insert(eventRollups).values({
      app,
      hour: new Date(Math.floor(old.getTime() / 3_600_000) * 3_600_000),
      type: "impression",
      detail: "",
      count: 1,
    });
    const removed = await pruneEvents(ctx);
    expect(removed.events).toBeGreaterThanOrEqual(1);
    expect((await ctx.db.select().from(events).where(eq(events.app, app))).map((e) => e.id)).toEqual([`new-${app}`]);
    expect((await ctx.db.select().from(instanceSessions).where(eq(instanceSessions.app, app))).length).toBe(1);
    expect((await ctx.db.select().from(eventRollups).where(eq(eventRollups.app, app))).length).toBe(1);
    await ctx.db.delete(events).where(eq(events.app, app));
    await ctx.db.delete(instanceSessions).where(eq(instanceSessions.app, app));
    await ctx.db.delete(eventRollups).where(eq(eventRollups.app, app));
  });

  it("answers the funnel in order, and bad ranges, unknown apps and keys without analytics:read clearly", async () => {
    const reader = await newKey({ kind: "secret", scopes: ["analytics:read"] });
    const ok = await api(`/api/v1/analytics/funnel?app=${slug}`, { key: reader });
    expect(ok.status).toBe(200);
    expect(ok.json.steps.map((s: { name: string }) => s.name)).toEqual([
      "impression",
      "click",
      "acquired",
      "visited",
      "extended",
      "converted",
    ]);
    expect(Object.keys(ok.json.rejected)).toEqual(["exhausted", "capped", "challenge", "blocked", "rate_limited", "paused"]);
    expect(ok.json.sessions).toHaveProperty("median_seconds");
    expect(ok.json.first_visit).toHaveProperty("median_seconds");
    expect(
      (await api(`/api/v1/analytics/funnel?app=${slug}`, { key: await newKey({ kind: "secret", scopes: ["demo"] }) })).status,
    ).toBe(403);
    expect((await api("/api/v1/analytics/funnel?app=no-such-app", { key: reader })).status).toBe(404);
    expect((await api(`/api/v1/analytics/funnel?app=${slug}&from=yesterday`, { key: reader })).status).toBe(400);
    const backwards = await api(`/api/v1/analytics/funnel?app=${slug}&from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z`, {
      key: reader,
    });
    expect(backwards.status).toBe(400);
    expect(backwards.json.error).toContain("from must be before to");
    expect((await api("/api/v1/analytics/funnel", { key: reader })).status).toBe(400);
  });
});
