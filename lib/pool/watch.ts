import type { Ctx } from "../context";
import { StateLog } from "../dependency";
import { AppError } from "../errors";
import type { Actor } from "../keys/authenticate";
import { metrics } from "../metrics";
import { clientKey } from "../net/address";
import { InstanceEvent, parseJson } from "../store/messages";
import { createRedis, type Redis } from "../store/redis";
import { streamAdmitScript } from "../store/scripts";
import { WEB_PROCESS_ID } from "../web-process";
import { getInstance } from "./get";

/** A stream's slot in its client's count lapses this long after the process last renewed it. */
const LEASE_MS = 30_000;
const RENEW_EVERY_MS = 10_000;

interface Stream {
  id: string;
  /** Its slot: the client's sorted set and this stream's member in it. */
  slotKey: string;
  slot: string;
  expiresAtMs: number;
  openedAtMs: number;
  lastBeatMs: number;
  eventId: number;
  controller: ReadableStreamDefaultController<Uint8Array>;
}

const encoder = new TextEncoder();

/**
 * Serves every SSE countdown of a process from one timer and one Redis subscription (ARCHITECTURE.md,
 * "HTTP API"):
 * nothing polls Redis per stream. Extend, release and expire made by any process arrive as
 * messages on the events channel.
 */
class WatchHub {
  private readonly streams = new Map<string, Set<Stream>>();
  private readonly process = WEB_PROCESS_ID;
  private slots = 0;
  private lastRenewMs: number;
  private closing = false;
  private timer?: NodeJS.Timeout;
  private subscriber?: Redis;

  constructor(private readonly ctx: Ctx) {
    this.lastRenewMs = ctx.clock.now();
  }

  get size(): number {
    let total = 0;
    for (const set of this.streams.values()) total += set.size;
    return total;
  }

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
   * Takes one of the client's SSE_MAX_PER_IP slots, counted across every web process in Redis (one
   * round trip); IPv6 clients share a slot count per prefix (IPV6_PREFIX_LENGTH), as they share a rate limit.
   */
  async claim(ip: string): Promise<{ slotKey: string; slot: string }> {
    this.refuseWhileClosing();
    const slotKey = this.ctx.keys.streams(clientKey(ip, this.ctx.config.IPV6_PREFIX_LENGTH));
    this.slots += 1;
    const slot = `${this.process}:${this.slots}`;
    const max = this.ctx.config.SSE_MAX_PER_IP;
    const admit = () =>
      streamAdmitScript.run(
        this.ctx.redis,
        { streams: slotKey },
        { nowMs: this.ctx.clock.now(), member: slot, leaseMs: LEASE_MS, max },
      );
    // A full count may hold slots of a web process that died: those are freed, and the claim tried once more.
    const admitted = (await admit()) || ((await this.freeSlotsOfDeadProcesses(slotKey)) > 0 && (await admit()));
    if (!admitted) {
      throw new AppError("RATE_LIMITED", `at most ${max} status streams per client at once`, { retryAfterSeconds: 5 });
    }
    return { slotKey, slot };
  }

  /**
   * Removes the slots whose web process no longer holds its liveness lease (lib/web-process.ts): the
   * supervisor deletes it the moment the process dies, so its streams' slots are free at once, not
   * after LEASE_MS. Only on a refused claim: three round trips there, none on the usual path.
   */
  private async freeSlotsOfDeadProcesses(slotKey: string): Promise<number> {
    const members = await this.ctx.redis.zrange(slotKey, "0", "-1");
    const owners = [...new Set(members.map((member) => member.slice(0, member.lastIndexOf(":"))))].filter(
      (owner) => owner !== this.process,
    );
    if (!owners.length) return 0;
    const alive = await Promise.all(owners.map((owner) => this.ctx.redis.exists(this.ctx.keys.webLease(owner))));
    const dead = new Set(owners.filter((_, index) => alive[index] === 0));
    const orphans = members.filter((member) => dead.has(member.slice(0, member.lastIndexOf(":"))));
    if (!orphans.length) return 0;
    return this.ctx.redis.zrem(slotKey, ...orphans);
  }

  open(id: string, claimed: { slotKey: string; slot: string }, expiresAtMs: number): ReadableStream<Uint8Array> {
    if (this.closing) {
      this.releaseSlot(claimed.slotKey, claimed.slot);
      this.refuseWhileClosing();
    }
    this.ensureRunning();
    let stream: Stream;
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        const now = this.ctx.clock.now();
        stream = { id, ...claimed, expiresAtMs, openedAtMs: now, lastBeatMs: now, eventId: 0, controller };
        const set = this.streams.get(id) ?? new Set<Stream>();
        this.streams.set(id, set);
        set.add(stream);
        metrics.sseStreams.set(this.size);
        controller.enqueue(encoder.encode("retry: 3000\n\n"));
        this.sendTtl(stream, now);
      },
      cancel: () => this.close(stream, false),
    });
  }

  private send(stream: Stream, event: string, data: unknown): void {
    stream.eventId += 1;
    try {
      stream.controller.enqueue(encoder.encode(`id: ${stream.eventId}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
    } catch {
      this.close(stream, false);
    }
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

  private releaseSlot(slotKey: string, slot: string): void {
    this.ctx.redis.zrem(slotKey, slot).catch((error) => this.ctx.log.warn({ err: error.message }, "stream slot release failed"));
  }

  /** Keeps the slots of this process's open streams alive; a process that dies stops renewing them. */
  private renewSlots(now: number): void {
    if (now - this.lastRenewMs < RENEW_EVERY_MS) return;
    this.lastRenewMs = now;
    const pipeline = this.ctx.redis.pipeline();
    for (const set of this.streams.values()) {
      for (const stream of set) {
        pipeline.zadd(stream.slotKey, "XX", now + LEASE_MS, stream.slot);
        pipeline.pexpire(stream.slotKey, LEASE_MS);
      }
    }
    pipeline.exec().catch((error) => this.ctx.log.warn({ err: error.message }, "stream slot renewal failed"));
  }

  private tick(): void {
    const now = this.ctx.clock.now();
    this.renewSlots(now);
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
          try {
            stream.controller.enqueue(encoder.encode(": heartbeat\n\n"));
          } catch {
            this.close(stream, false);
          }
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
    this.releaseSlot(stream.slotKey, stream.slot);
    if (endResponse) {
      try {
        stream.controller.close();
      } catch {
        // already closed by the client
      }
    }
    metrics.sseStreams.set(this.size);
    if (this.size === 0 && this.timer) {
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
    this.subscriber?.disconnect();
    return closed;
  }
}

/** Closes every status stream of this context with `event: shutdown`; returns how many there were. */
export function shutdownWatchers(ctx: Ctx): number {
  return ctx.existing<WatchHub>("watch-hub")?.shutdown() ?? 0;
}

/** Opens a countdown stream for an assigned instance; 404 before any byte is sent when there is none. */
export async function watch(ctx: Ctx, id: string, actor: Actor, clientIp: string): Promise<ReadableStream<Uint8Array>> {
  const hub = ctx.service("watch-hub", () => new WatchHub(ctx));
  const instance = await getInstance(ctx, id, actor);
  return hub.open(id, await hub.claim(clientIp), Date.parse(instance.expires_at));
}
