import type { Ctx } from "../context";
import { StateLog } from "../dependency";
import { AppError } from "../errors";
import { EventStreamBody } from "../http/event-stream";
import type { Actor } from "../keys/authenticate";
import { metrics } from "../metrics";
import { clientKey } from "../net/address";
import { InstanceEvent, parseJson } from "../store/messages";
import { createRedis, type Redis } from "../store/redis";
import { streamAdmitScript, streamReleaseScript } from "../store/scripts";
import { WEB_PROCESS_ID } from "../web-process";
import { getInstance } from "./get";

interface Stream {
  id: string;
  /** The client's stream counts, where this stream is counted under its process. */
  countsKey: string;
  expiresAtMs: number;
  openedAtMs: number;
  lastBeatMs: number;
  eventId: number;
  body: EventStreamBody;
}

/**
 * Serves every SSE countdown of a process from one timer and one Redis subscription (ARCHITECTURE.md,
 * "HTTP API"):
 * nothing polls Redis per stream. Extend, release and expire made by any process arrive as
 * messages on the events channel.
 */
class WatchHub {
  private readonly streams = new Map<string, Set<Stream>>();
  private readonly process = WEB_PROCESS_ID;
  /** Open streams over every id: kept, not counted, since each close reads it (10,000 closes at one reap). */
  private openCount = 0;
  /** Counts to give back, by client: sent once the current burst of closes is over (one call per client, not per stream). */
  private readonly releases = new Map<string, number>();
  private closing = false;
  private timer?: NodeJS.Timeout;
  private subscriber?: Redis;

  constructor(private readonly ctx: Ctx) {}

  private ensureRunning(): void {
    if (!this.subscriber) {
      this.subscriber = createRedis(this.ctx.config, { subscriber: true });
      // It resubscribes by itself after a reconnect; the log says when it went and came back.
      const state = new StateLog(this.ctx.log, "redis subscription");
      this.subscriber.on("error", (error) => state.failed(error));
      this.subscriber.on("ready", () => state.ok());
      this.subscriber
        .subscribe(this.ctx.keys.events)
        .catch((error) => this.ctx.log.error({ err: error.message }, "subscribe failed"));
      this.subscriber.on("message", (_channel, message) => this.onEvent(message));
    }
    this.timer ??= setInterval(() => this.tick(), 1000);
  }

  private refuseWhileClosing(): void {
    if (this.closing) throw new AppError("UNAVAILABLE", "the server is shutting down", { retryAfterSeconds: 2 });
  }

  /**
   * Counts one more stream of the client against SSE_MAX_PER_IP, over every web process (one round
   * trip); IPv6 clients share a count per prefix (IPV6_PREFIX_LENGTH), as they share a rate limit.
   */
  async claim(ip: string): Promise<string> {
    this.refuseWhileClosing();
    const countsKey = this.ctx.keys.streams(clientKey(ip, this.ctx.config.IPV6_PREFIX_LENGTH));
    const max = this.ctx.config.SSE_MAX_PER_IP;
    if (!(await admitStream(this.ctx, countsKey, this.process, max))) {
      throw new AppError("RATE_LIMITED", `at most ${max} status streams per client at once`, { retryAfterSeconds: 5 });
    }
    return countsKey;
  }

  open(id: string, countsKey: string, expiresAtMs: number): EventStreamBody {
    if (this.closing) {
      this.releaseCount(countsKey);
      this.refuseWhileClosing();
    }
    this.ensureRunning();
    const now = this.ctx.clock.now();
    const body = new EventStreamBody();
    const stream: Stream = { id, countsKey, expiresAtMs, openedAtMs: now, lastBeatMs: now, eventId: 0, body };
    body.onCancel(() => this.close(stream, false));
    const set = this.streams.get(id) ?? new Set<Stream>();
    this.streams.set(id, set);
    set.add(stream);
    this.openCount += 1;
    metrics.sseStreams.set(this.openCount);
    body.write("retry: 3000\n\n");
    this.sendTtl(stream, now);
    return body;
  }

  private send(stream: Stream, event: string, data: unknown): void {
    stream.eventId += 1;
    if (!stream.body.write(`id: ${stream.eventId}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`))
      this.close(stream, false);
  }

  private sendTtl(stream: Stream, now: number): void {
    const ttl = Math.max(0, Math.floor((stream.expiresAtMs - now) / 1000));
    if (stream.expiresAtMs <= now) {
      this.send(stream, "expired", { id: stream.id, ttl_remaining: 0, state: "expired" });
      this.close(stream, true);
      return;
    }
    this.send(stream, "ttl", { id: stream.id, ttl_remaining: ttl, state: "assigned" });
  }

  /**
   * Gives one stream's count back. The closes of one event-loop turn (a reap ends thousands of
   * streams at once) are summed per client and sent together on the next turn.
   */
  private releaseCount(countsKey: string): void {
    if (!this.releases.size) setImmediate(() => this.flushReleases());
    this.releases.set(countsKey, (this.releases.get(countsKey) ?? 0) + 1);
  }

  private flushReleases(): void {
    for (const [countsKey, count] of this.releases) {
      streamReleaseScript
        .run(this.ctx.redis, { streams: countsKey }, { process: this.process, count })
        .catch((error) => this.ctx.log.warn({ err: error.message }, "stream count release failed"));
    }
    this.releases.clear();
  }

  private tick(): void {
    const now = this.ctx.clock.now();
    for (const set of this.streams.values()) {
      for (const stream of set) {
        if (now - stream.openedAtMs >= this.ctx.config.SSE_MAX_DURATION) {
          // The client's EventSource reconnects (retry) and gets a fresh stream.
          this.close(stream, true);
          continue;
        }
        this.sendTtl(stream, now);
        if (now - stream.lastBeatMs >= this.ctx.config.SSE_HEARTBEAT) {
          stream.lastBeatMs = now;
          if (!stream.body.write(": heartbeat\n\n")) this.close(stream, false);
        }
      }
    }
  }

  private onEvent(message: string): void {
    const event = parseJson(InstanceEvent, message);
    if (!event) {
      this.ctx.log.warn({ message: message.slice(0, 200) }, "malformed instance event ignored");
      return;
    }
    const set = this.streams.get(event.id);
    if (!set) return;
    for (const stream of set) {
      if (event.type === "extended") {
        stream.expiresAtMs = event.expires_at;
        this.sendTtl(stream, this.ctx.clock.now());
      } else {
        this.send(stream, "expired", { id: stream.id, ttl_remaining: 0, state: event.type });
        this.close(stream, true);
      }
    }
  }

  private close(stream: Stream, endResponse: boolean): void {
    const set = this.streams.get(stream.id);
    if (!set?.delete(stream)) return;
    if (!set.size) this.streams.delete(stream.id);
    this.openCount -= 1;
    this.releaseCount(stream.countsKey);
    if (endResponse) stream.body.close();
    metrics.sseStreams.set(this.openCount);
    if (this.openCount === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** On SIGTERM: every client gets `event: shutdown` (its EventSource reconnects elsewhere) and is closed. */
  shutdown(): number {
    this.closing = true;
    let closed = 0;
    for (const set of [...this.streams.values()]) {
      for (const stream of [...set]) {
        this.send(stream, "shutdown", { id: stream.id, reason: "server shutting down; reconnect" });
        this.close(stream, true);
        closed += 1;
      }
    }
    this.flushReleases(); // now, before the context's Redis closes
    this.subscriber?.disconnect();
    return closed;
  }
}

/**
 * Admits a stream of `processId` in the client's counts (`countsKey`) when they are under `max`. A
 * full count may hold counts of a web process that died: those whose process no longer holds its
 * liveness lease (lib/web-process.ts; the supervisor deletes it the moment the process dies) are
 * removed and the admit tried once more — extra round trips on a refusal only, none on the usual path.
 */
export async function admitStream(ctx: Ctx, countsKey: string, processId: string, max: number): Promise<boolean> {
  const admit = () =>
    streamAdmitScript.run(
      ctx.redis,
      { streams: countsKey },
      { process: processId, max, ttlMs: ctx.config.SSE_MAX_DURATION + 60_000 },
    );
  if (await admit()) return true;
  const owners = (await ctx.redis.hkeys(countsKey)).filter((owner) => owner !== processId);
  if (!owners.length) return false;
  const alive = await Promise.all(owners.map((owner) => ctx.redis.exists(ctx.keys.webLease(owner))));
  const dead = owners.filter((_, index) => alive[index] === 0);
  if (!dead.length) return false;
  await ctx.redis.hdel(countsKey, ...dead);
  return admit();
}

/** Closes every status stream of this context with `event: shutdown`; returns how many there were. */
export function shutdownWatchers(ctx: Ctx): number {
  return ctx.existing<WatchHub>("watch-hub")?.shutdown() ?? 0;
}

/** Opens a countdown stream for an assigned instance; 404 before any byte is sent when there is none. */
export async function watch(ctx: Ctx, id: string, actor: Actor, clientIp: string): Promise<EventStreamBody> {
  const hub = ctx.service("watch-hub", () => new WatchHub(ctx));
  const instance = await getInstance(ctx, id, actor);
  return hub.open(id, await hub.claim(clientIp), Date.parse(instance.expires_at));
}
