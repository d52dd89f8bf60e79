import { randomBytes } from "node:crypto";
import { type JsMsg, jetstream } from "@nats-io/jetstream";
import { and, eq, gt, inArray, sql } from "drizzle-orm";
import type { Ctx } from "../context";
import type { Queryable } from "../db/client";
import { eventRollups, events, instanceSessions } from "../db/schema";
import type { Logger } from "../log";
import { metrics } from "../metrics";
import { parseJson } from "../store/messages";
import { type AnalyticsEvent, EventMessage } from "./model";

const BATCH = 500;
/** A fetch ends after this when fewer than BATCH messages wait (heartbeats every half of it). */
const WAIT_MS = 3000;
/** A fetch still open this long after it should have ended is abandoned (seen under CPU starvation). */
const FETCH_GUARD_MS = 5000;
const INSERT_ROWS = 1000;
const HOUR_MS = 3_600_000;

/**
 * Writes funnel events from TRYIT_EVENTS into MariaDB in batches (ARCHITECTURE.md, "Funnel
 * analytics"): one transaction per fetched batch inserts the events (INSERT IGNORE: the event id is
 * the primary key, so a redelivered event never makes a second row), then counts exactly the rows it
 * inserted into the hourly rollups and applies them to the instance sessions. The batch is
 * acknowledged only after the commit: a worker killed mid-batch loses nothing, and what it had
 * written is not counted twice when the batch comes again.
 */
export async function writeEvents(
  ctx: Ctx,
  log: Logger,
  stopped: () => boolean,
  progress: () => void = () => undefined,
): Promise<void> {
  const js = jetstream(await ctx.bus(), { timeout: 5000 });
  const consumer = await js.consumers.get(ctx.busNames.events.name, ctx.busNames.eventsConsumer);
  while (!stopped()) {
    const batch = await fetchBatch(consumer);
    progress();
    if (!batch.length) continue;
    const parsed: AnalyticsEvent[] = [];
    for (const message of batch) {
      const list = parseJson(EventMessage, message.string());
      if (list) parsed.push(...list);
      else log.warn({ event: message.string().slice(0, 200) }, "malformed analytics event dropped");
    }
    const written = parsed.length ? await storeEvents(ctx, parsed) : 0;
    for (const message of batch) message.ack();
    metrics.eventsWritten.inc(written);
  }
}

type Consumer = Awaited<ReturnType<ReturnType<typeof jetstream>["consumers"]["get"]>>;

/**
 * Up to BATCH messages. A fetch that fails after delivering some (missed heartbeats when the process
 * or the server was starved of CPU) still yields those; one that never ends is abandoned after a
 * guard time, so the writer cannot hang on it. What is not acknowledged is delivered again.
 */
async function fetchBatch(consumer: Consumer): Promise<JsMsg[]> {
  const messages = await consumer.fetch({ max_messages: BATCH, expires: WAIT_MS });
  const batch: JsMsg[] = [];
  let failure: unknown;
  const collected = (async () => {
    for await (const message of messages) batch.push(message);
  })().catch((error: unknown) => {
    failure = error;
  });
  let guard: NodeJS.Timeout | undefined;
  await Promise.race([collected, new Promise((resolve) => (guard = setTimeout(resolve, WAIT_MS + FETCH_GUARD_MS)))]);
  clearTimeout(guard);
  messages.stop();
  if (failure && !batch.length) throw failure;
  return batch.splice(0); // what came in before a failure or the guard
}

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
  await addToRollups(tx, fresh, convertedBefore);
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
  const byKind: Record<"acquired" | "visited" | "extended" | "ended" | "converted", SessionInsert[]> = {
    acquired: [],
    visited: [],
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
