import { createHmac, randomUUID } from "node:crypto";
import { jetstream } from "@nats-io/jetstream";
import { busWithin } from "../bus/nats";
import type { Ctx } from "../context";
import { metrics } from "../metrics";
import { clientKey } from "../net/address";
import { derivedKey } from "../secrets";
import type { AnalyticsEvent, EventType } from "./model";

/** Events kept in memory while a flush is pending; past this they are dropped (and counted). */
const BUFFER_MAX = 10_000;
const FLUSH_MS = 200;
const PUBLISH_TIMEOUT_MS = 1000;
/** Events per message: one JetStream publish carries a whole flush, not one round trip per event. */
const PER_MESSAGE = 500;

interface Pending {
  event: Omit<AnalyticsEvent, "visitor">;
  clientIp: string | null;
}

export interface EmitInput {
  type: EventType;
  /** A fixed id makes the step count once however often it is emitted (a visit seen twice). */
  id?: string;
  /** When it happened, if not now. */
  atMs?: number;
  app: string;
  instance?: string | null;
  requestId?: string | null;
  clientIp?: string | null;
  data?: AnalyticsEvent["data"];
}

/** Visitor keys computed today, by client key: one HMAC per client and day, not per event. */
const VISITOR_CACHE = 10_000;
type VisitorDay = { day: number; key: Buffer; visitors: Map<string, string> };

/** The visitor key: HMAC of the client's address (IPv6 by its IPV6_PREFIX_LENGTH prefix) under a key that changes every UTC day. */
async function visitorOf(ctx: Ctx, cache: { today?: VisitorDay }, ip: string, atMs: number): Promise<string> {
  const day = Math.floor(atMs / 86_400_000);
  if (cache.today?.day !== day) {
    const key = createHmac("sha256", await derivedKey(ctx, "visitor"))
      .update(String(day))
      .digest();
    cache.today = { day, key, visitors: new Map() };
  }
  const today = cache.today;
  const client = clientKey(ip, ctx.config.IPV6_PREFIX_LENGTH);
  let visitor = today.visitors.get(client);
  if (!visitor) {
    visitor = createHmac("sha256", today.key).update(client).digest("base64url").slice(0, 32);
    if (today.visitors.size >= VISITOR_CACHE) today.visitors.clear();
    today.visitors.set(client, visitor);
  }
  return visitor;
}

/**
 * Funnel events leave a process off the request path: `emit` only appends to a buffer (the acquire
 * path pays for an object and a push); a timer publishes the buffer to TRYIT_EVENTS every 200 ms,
 * up to 500 events per message (one JetStream round trip per message, not per event: per-event
 * publishing cost the acquire bench about a fifth of its throughput). When NATS cannot take them, they are dropped and counted
 * (`tin_events_dropped_total`) — an acquire never waits for, or fails on, analytics.
 */
class EventPublisher {
  private buffer: Pending[] = [];
  private timer?: NodeJS.Timeout;
  /** Today's visitor keys, under this context's secret. */
  private readonly visitors: { today?: VisitorDay } = {};

  /** Publishes to its own context's streams, whichever context's code emits next. */
  constructor(private readonly ctx: Ctx) {}

  emit(input: EmitInput): void {
    if (this.buffer.length >= BUFFER_MAX) {
      metrics.eventsDropped.inc({ reason: "buffer_full" });
      return;
    }
    this.buffer.push({
      event: {
        id: input.id ?? randomUUID(),
        type: input.type,
        app: input.app,
        instance: input.instance ?? null,
        atMs: input.atMs ?? this.ctx.clock.now(),
        request_id: input.requestId ?? null,
        data: input.data ?? {},
      },
      clientIp: input.clientIp ?? null,
    });
    this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
    this.timer.unref?.();
  }

  async flush(): Promise<void> {
    const ctx = this.ctx;
    this.timer = undefined;
    const batch = this.buffer.splice(0);
    if (!batch.length) return;
    try {
      const nc = await busWithin(() => ctx.bus(), PUBLISH_TIMEOUT_MS);
      const js = jetstream(nc, { timeout: PUBLISH_TIMEOUT_MS });
      const full: AnalyticsEvent[] = await Promise.all(
        batch.map(async ({ event, clientIp }) => ({
          ...event,
          visitor: clientIp ? await visitorOf(ctx, this.visitors, clientIp, event.atMs) : null,
        })),
      );
      const chunks: AnalyticsEvent[][] = [];
      for (let start = 0; start < full.length; start += PER_MESSAGE) chunks.push(full.slice(start, start + PER_MESSAGE));
      // One message per chunk, under a message id of its own: JetStream drops a message whose id it saw
      // in the last 2 minutes, and event ids may repeat on purpose (a visit seen twice is one row), so
      // an id taken from the events could drop a whole batch. The writer unpacks it.
      const results = await Promise.allSettled(
        chunks.map((chunk) =>
          js.publish(`${ctx.busNames.eventsSubjectRoot}.batch`, JSON.stringify({ events: chunk }), {
            msgID: `batch-${randomUUID()}`,
          }),
        ),
      );
      const failed = results.reduce((sum, result, index) => sum + (result.status === "rejected" ? chunks[index].length : 0), 0);
      if (failed) metrics.eventsDropped.inc({ reason: "publish_failed" }, failed);
    } catch (error) {
      metrics.eventsDropped.inc({ reason: "bus_unreachable" }, batch.length);
      ctx.log.warn({ err: (error as Error).message, dropped: batch.length }, "analytics events dropped");
    }
  }
}

/**
 * Publishes events now and waits for JetStream to store them; throws when it cannot (NATS away).
 * For the steps that must not be dropped: a conversion (its caller gets a 503) and the visits
 * reader's requests (its cursor moves only after this). One message; its id is the single event's
 * own, so a retried conversion is one message, or a fresh one for a batch.
 */
export async function publishEvents(ctx: Ctx, list: AnalyticsEvent[], timeoutMs = 3000): Promise<void> {
  if (!list.length) return;
  const nc = await busWithin(() => ctx.bus(), timeoutMs);
  const js = jetstream(nc, { timeout: timeoutMs });
  for (let start = 0; start < list.length; start += PER_MESSAGE) {
    const chunk = list.slice(start, start + PER_MESSAGE);
    const single = list.length === 1;
    await js.publish(
      `${ctx.busNames.eventsSubjectRoot}.${single ? chunk[0].type : "batch"}`,
      JSON.stringify(single ? chunk[0] : { events: chunk }),
      { msgID: single ? chunk[0].id : `batch-${randomUUID()}` },
    );
  }
}

/** Records one funnel step; never throws, never waits. */
export function emitEvent(ctx: Ctx, input: EmitInput): void {
  if (ctx.config.ANALYTICS_EVENTS === "off") return;
  ctx.service("events", () => new EventPublisher(ctx)).emit(input);
}

/** Publishes what is buffered now (at shutdown). */
export async function flushEvents(ctx: Ctx): Promise<void> {
  await ctx.existing<EventPublisher>("events")?.flush();
}
