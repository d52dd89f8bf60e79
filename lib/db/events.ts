/**
 * The funnel's tables (`events`, `event_rollups`, `instance_sessions`): every query lib/events makes
 * of them, as lib/db/apps.ts is for the apps (ARCHITECTURE.md, "Funnel analytics"). The events
 * writer is the only writer of the sessions: every step that shapes one, the visits reader's
 * requests included, arrives as an event and is applied here in the writer's transaction.
 */
import { randomBytes } from "node:crypto";
import { and, desc, eq, gt, gte, inArray, isNotNull, lt, sql } from "drizzle-orm";
import type { Ctx } from "../context";
import type { AnalyticsEvent } from "../events/model";
import type { Queryable } from "./client";
import { eventRollups, events, instanceSessions } from "./schema";

const INSERT_ROWS = 1000;
const HOUR_MS = 3_600_000;
const PRUNE_CHUNK = 10_000;

/** Stores events once each; returns how many were new. Retried when MariaDB picks it as a deadlock victim. */
export async function storeEvents(ctx: Ctx, list: AnalyticsEvent[]): Promise<number> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await ctx.db.transaction((tx) => storeOnce(tx, list));
    } catch (error) {
      if (attempt >= 3 || !isDeadlock(error)) throw error;
    }
  }
}

function isDeadlock(error: unknown): boolean {
  const cause = (error as { cause?: { errno?: number } }).cause ?? (error as { errno?: number });
  return cause?.errno === 1213 || cause?.errno === 1205;
}

async function storeOnce(tx: Queryable, all: AnalyticsEvent[]): Promise<number> {
  // Refusals are counted in the rollups only, never a raw row each: a flood of refused acquires
  // leaves a number that grows, not a table (ARCHITECTURE.md, "Funnel analytics"). A batch
  // delivered again after its commit may count them twice; every other step is kept once by id.
  // Requests shape sessions only: they are no funnel step, so no rollup counts them.
  const refusals = all.filter((event) => event.type === "rejected");
  const list = all.filter((event) => event.type !== "rejected");
  if (refusals.length) await addToRollups(tx, refusals, new Set());
  if (!list.length) return refusals.length;
  const token = randomBytes(9).toString("base64url");
  const rows = list.map((event) => ({
    id: event.id,
    type: event.type,
    app: event.app,
    instance: event.instance,
    at: new Date(event.atMs),
    requestId: event.request_id,
    visitor: event.visitor,
    data: event.data,
    writtenBy: token,
  }));
  for (let start = 0; start < rows.length; start += INSERT_ROWS)
    await tx
      .insert(events)
      .ignore()
      .values(rows.slice(start, start + INSERT_ROWS));
  // The rows this transaction inserted carry its token; a row already there (a redelivery) does not.
  const ids = [...new Set(list.map((event) => event.id))];
  const mine = new Set<string>();
  for (let start = 0; start < ids.length; start += INSERT_ROWS) {
    const found = await tx
      .select({ id: events.id })
      .from(events)
      .where(and(inArray(events.id, ids.slice(start, start + INSERT_ROWS)), eq(events.writtenBy, token)));
    for (const row of found) mine.add(row.id);
  }
  const fresh = list.filter((event) => mine.delete(event.id));
  if (!fresh.length) return refusals.length;
  const convertedBefore = await alreadyConverted(tx, fresh);
  await applyToSessions(tx, fresh);
  const steps = fresh.filter((event) => event.type !== "requests");
  if (steps.length) await addToRollups(tx, steps, convertedBefore);
  return fresh.length + refusals.length;
}

/** Instances of these events that had a conversion before this batch (so this batch's are "again"). */
async function alreadyConverted(tx: Queryable, fresh: AnalyticsEvent[]): Promise<Set<string>> {
  const converting = [
    ...new Set(fresh.filter((event) => event.type === "converted" && event.instance).map((event) => event.instance!)),
  ];
  if (!converting.length) return new Set();
  const rows = await tx
    .select({ instance: instanceSessions.instance })
    .from(instanceSessions)
    .where(and(inArray(instanceSessions.instance, converting), gt(instanceSessions.conversions, 0)));
  return new Set(rows.map((row) => row.instance));
}

/**
 * The rollup detail of an event: a rejection's reason; "first" or "again" for extensions and
 * conversions, so the funnel counts instances that extended or converted, not calls.
 */
function detailOf(event: AnalyticsEvent, convertedBefore: Set<string>): string {
  switch (event.type) {
    case "rejected":
      return String(event.data.reason ?? "other").slice(0, 32);
    case "extended":
      return event.data.extensions === 1 ? "first" : "again";
    case "converted": {
      const instance = event.instance ?? "";
      if (convertedBefore.has(instance)) return "again";
      convertedBefore.add(instance);
      return "first";
    }
    default:
      return "";
  }
}

async function addToRollups(tx: Queryable, fresh: AnalyticsEvent[], convertedBefore: Set<string>): Promise<void> {
  const counts = new Map<string, { app: string; hour: Date; type: string; detail: string; count: number }>();
  for (const event of [...fresh].sort((a, b) => a.atMs - b.atMs)) {
    const hourMs = Math.floor(event.atMs / HOUR_MS) * HOUR_MS;
    const detail = detailOf(event, convertedBefore);
    const key = `${event.app}\u0000${hourMs}\u0000${event.type}\u0000${detail}`;
    const entry = counts.get(key) ?? { app: event.app, hour: new Date(hourMs), type: event.type, detail, count: 0 };
    entry.count += 1;
    counts.set(key, entry);
  }
  await tx
    .insert(eventRollups)
    .values([...counts.values()])
    .onDuplicateKeyUpdate({ set: { count: sql.raw("count + VALUES(count)") } });
}

type SessionInsert = typeof instanceSessions.$inferInsert;

/** Applies the session-shaping steps, one multi-row upsert per kind of step. */
async function applyToSessions(tx: Queryable, fresh: AnalyticsEvent[]): Promise<void> {
  const byKind: Record<"acquired" | "visited" | "requests" | "extended" | "ended" | "converted", SessionInsert[]> = {
    acquired: [],
    visited: [],
    requests: [],
    extended: [],
    ended: [],
    converted: [],
  };
  for (const event of fresh) {
    if (!event.instance) continue;
    const base = { instance: event.instance, app: event.app };
    const at = new Date(event.atMs);
    if (event.type === "acquired") byKind.acquired.push({ ...base, assignedAt: at, visitor: event.visitor });
    else if (event.type === "visited") byKind.visited.push({ ...base, firstVisitAt: at });
    else if (event.type === "requests")
      byKind.requests.push({
        ...base,
        firstVisitAt: at,
        lastRequestAt: new Date(Number(event.data.last_at_ms) || event.atMs),
        requests: Number(event.data.count) || 0,
      });
    else if (event.type === "extended") byKind.extended.push({ ...base, extensions: Number(event.data.extensions) || 1 });
    else if (event.type === "released" || event.type === "expired" || event.type === "failed")
      byKind.ended.push({ ...base, endedAt: at, endedHow: event.type });
    else if (event.type === "converted") byKind.converted.push({ ...base, convertedAt: at, conversions: 1 });
  }
  const upsert = (values: SessionInsert[], set: Record<string, unknown>) =>
    values.length ? tx.insert(instanceSessions).values(values).onDuplicateKeyUpdate({ set }) : undefined;
  await upsert(byKind.acquired, {
    assignedAt: sql.raw("VALUES(assigned_at)"),
    visitor: sql.raw("VALUES(visitor)"),
    app: sql.raw("VALUES(app)"),
  });
  await upsert(byKind.visited, {
    firstVisitAt: sql.raw("LEAST(COALESCE(first_visit_at, VALUES(first_visit_at)), VALUES(first_visit_at))"),
  });
  await upsert(byKind.requests, {
    requests: sql.raw("requests + VALUES(requests)"),
    lastRequestAt: sql.raw("GREATEST(COALESCE(last_request_at, VALUES(last_request_at)), VALUES(last_request_at))"),
    firstVisitAt: sql.raw("LEAST(COALESCE(first_visit_at, VALUES(first_visit_at)), VALUES(first_visit_at))"),
  });
  await upsert(byKind.extended, { extensions: sql.raw("GREATEST(extensions, VALUES(extensions))") });
  await upsert(byKind.ended, {
    endedAt: sql.raw("COALESCE(ended_at, VALUES(ended_at))"),
    endedHow: sql.raw("COALESCE(ended_how, VALUES(ended_how))"),
  });
  await upsert(byKind.converted, {
    convertedAt: sql.raw("COALESCE(converted_at, VALUES(converted_at))"),
    conversions: sql.raw("conversions + 1"),
  });
}

/** The sessions of these instances: their app, and when they started and ended (null: running or unknown). */
export async function sessionsOf(ctx: Ctx, ids: string[]) {
  if (!ids.length) return [];
  return ctx.db
    .select({
      instance: instanceSessions.instance,
      app: instanceSessions.app,
      assignedAt: instanceSessions.assignedAt,
      endedAt: instanceSessions.endedAt,
    })
    .from(instanceSessions)
    .where(inArray(instanceSessions.instance, ids));
}

/**
 * Deletes raw events and instance sessions older than `cutoff` (a session by its end, or its start
 * when it never ended), in chunks so no statement holds locks for long. Rollups are kept.
 */
export async function pruneBefore(ctx: Ctx, cutoff: Date): Promise<{ events: number; sessions: number }> {
  const removed = { events: 0, sessions: 0 };
  for (;;) {
    const [result] = await ctx.db.delete(events).where(lt(events.at, cutoff)).limit(PRUNE_CHUNK);
    removed.events += result.affectedRows;
    if (result.affectedRows < PRUNE_CHUNK) break;
  }
  for (;;) {
    const [result] = await ctx.db
      .delete(instanceSessions)
      .where(
        lt(sql`COALESCE(${instanceSessions.endedAt}, ${instanceSessions.assignedAt}, ${instanceSessions.lastRequestAt})`, cutoff),
      )
      .limit(PRUNE_CHUNK);
    removed.sessions += result.affectedRows;
    if (result.affectedRows < PRUNE_CHUNK) break;
  }
  return removed;
}

/** What the analytics views read: an app and a time range. */
export interface Span {
  app: string;
  from: Date;
  to: Date;
}

/** Rollup rows whose hour starts in the span: `from` is taken from the start of its hour. */
const hoursOf = (span: Span) =>
  and(
    eq(eventRollups.app, span.app),
    gte(eventRollups.hour, new Date(Math.floor(span.from.getTime() / HOUR_MS) * HOUR_MS)),
    lt(eventRollups.hour, span.to),
  );

/** Sessions assigned in the span. */
const sessionsOfSpan = (span: Span) =>
  and(eq(instanceSessions.app, span.app), gte(instanceSessions.assignedAt, span.from), lt(instanceSessions.assignedAt, span.to));

/** The span's rollups summed by type and detail. */
export async function rollupTotals(ctx: Ctx, span: Span) {
  return ctx.db
    .select({ type: eventRollups.type, detail: eventRollups.detail, count: sql<string>`SUM(${eventRollups.count})` })
    .from(eventRollups)
    .where(hoursOf(span))
    .groupBy(eventRollups.type, eventRollups.detail);
}

/** The span's rollups summed by hour, type and detail. */
export async function rollupsByHour(ctx: Ctx, span: Span) {
  return ctx.db
    .select({
      hour: eventRollups.hour,
      type: eventRollups.type,
      detail: eventRollups.detail,
      count: sql<string>`SUM(${eventRollups.count})`,
    })
    .from(eventRollups)
    .where(hoursOf(span))
    .groupBy(eventRollups.hour, eventRollups.type, eventRollups.detail);
}

export async function countSessions(ctx: Ctx, span: Span): Promise<number> {
  const [row] = await ctx.db.select({ n: sql<number>`COUNT(*)` }).from(instanceSessions).where(sessionsOfSpan(span));
  return Number(row?.n ?? 0);
}

/**
 * Median and p90 (continuous, in seconds with 3 decimals) of the time from assignment to `until`
 * (the end, or the first visit) over the span's sessions that have one.
 */
export async function sessionPercentiles(ctx: Ctx, span: Span, until: "ended_at" | "first_visit_at") {
  const micros = sql`TIMESTAMPDIFF(MICROSECOND, assigned_at, ${sql.raw(until)})`;
  const present = isNotNull(until === "ended_at" ? instanceSessions.endedAt : instanceSessions.firstVisitAt);
  const [row] = await ctx.db
    .select({
      p50: sql<string | null>`PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY ${micros}) OVER ()`,
      p90: sql<string | null>`PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY ${micros}) OVER ()`,
    })
    .from(instanceSessions)
    .where(and(sessionsOfSpan(span), present))
    .limit(1);
  const seconds = (value: string | null | undefined) =>
    value === null || value === undefined ? null : Math.round(Number(value) / 1000) / 1000;
  return { p50: seconds(row?.p50), p90: seconds(row?.p90) };
}

/** Impressions and clicks of the span by the page they came from or by its referrer, most first. */
export async function sourcesBy(ctx: Ctx, span: Span, by: "page" | "referrer", limit: number) {
  // `by` is one of two names: written into the statement, so the select and the grouping are one expression.
  const name = sql<string>`JSON_VALUE(${events.data}, ${sql.raw(`'$.${by}'`)})`;
  const impressions = sql<string>`SUM(${events.type} = 'impression')`;
  const clicks = sql<string>`SUM(${events.type} = 'click')`;
  const rows = await ctx.db
    .select({ name, impressions, clicks })
    .from(events)
    .where(
      and(
        eq(events.app, span.app),
        gte(events.at, span.from),
        lt(events.at, span.to),
        inArray(events.type, ["impression", "click"]),
        isNotNull(name),
      ),
    )
    .groupBy(name)
    .orderBy(desc(impressions))
    .limit(limit);
  return rows.map((row) => ({ name: row.name, impressions: Number(row.impressions), clicks: Number(row.clicks) }));
}

/** The span's sessions, newest first. */
export async function sessionsIn(ctx: Ctx, span: Span, limit: number) {
  return ctx.db
    .select()
    .from(instanceSessions)
    .where(sessionsOfSpan(span))
    .orderBy(desc(instanceSessions.assignedAt))
    .limit(limit);
}
