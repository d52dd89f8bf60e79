import { createHash } from "node:crypto";
import { open, readdir, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Ctx } from "../context";
import { sessionsOf } from "../db/events";
import { INSTANCE_ID } from "../ids";
import type { Logger } from "../log";
import { metrics } from "../metrics";
import { leaseScript, markVisitedScript } from "../store/scripts";
import type { AnalyticsEvent } from "./model";
import { publishEvents } from "./publish";

/** Bytes read per step: a backlog is worked off in steps, each saved before the next. */
const CHUNK_BYTES = 4 * 1024 * 1024;
const LEASE_MS = 15_000;
/** How long requests to an unknown instance wait for it to be known, and how many such instances at most. */
const PENDING_MS = 60_000;
const PENDING_MAX = 10_000;
/** Instances this reader has reported visited; forgotten past this many (a repeat costs one ignored row). */
const VISITED_MEMORY = 10_000;

interface Cursor {
  /** The file being read, by inode: a rotation renames it, and the reader finishes it before moving on. */
  ino: number;
  offset: number;
  /**
   * Where the chunk being published ends, saved before its events go out: a reader that died in
   * between reads exactly that chunk again, so its events get the same ids and count once.
   */
  end?: number;
}

interface Visits {
  /** Request times (ms) per instance id, in file order. */
  byInstance: Map<string, number[]>;
  lines: number;
}

/**
 * The "visited" step and each session's requests, taken from the proxy itself (ARCHITECTURE.md,
 * "Funnel analytics"): Caddy writes the instances' access log to a file; one worker at a time (a
 * Redis lease) reads what was appended since its cursor (inode + offset, kept in Redis, so a restart
 * or another worker goes on where it stopped) and follows a rotated file to its end. For each
 * chunk it publishes, and waits for JetStream to take, one `requests` event per instance (its
 * count and last request; the id names the instance and the chunk: file, start and end) and, once
 * per instance, `visited` (a fixed id); the events writer applies them to the sessions, as it does
 * every other step. The cursor moves after the publish, and a chunk is read again with the same
 * bounds (`Cursor.end`), so a reader killed in between counts nothing twice.
 */
export class VisitsReader {
  private readonly visited = new Set<string>();
  private readonly pending = new Map<string, { times: number[]; sinceMs: number }>();

  constructor(
    private readonly ctx: Ctx,
    private readonly log: Logger,
    private readonly owner: string,
    private readonly path: string,
  ) {}

  /** One step: read what is new (if this worker holds the lease). Returns the lines it handled. */
  async tick(): Promise<number> {
    const held = await leaseScript.run(
      this.ctx.redis,
      { lease: this.ctx.keys.visitsLease },
      { owner: this.owner, ttlMs: LEASE_MS },
    );
    if (!held) return 0;
    let current: Awaited<ReturnType<typeof stat>>;
    try {
      current = await stat(this.path);
    } catch {
      return 0; // Caddy has not written a line yet
    }
    let cursor = (await this.loadCursor()) ?? { ino: current.ino, offset: 0 };
    let handled = 0;
    if (cursor.ino !== current.ino) {
      // Rotated since the last step: finish the old file (renamed beside it) if it is still there.
      const old = await this.findByInode(cursor.ino);
      if (old) handled += await this.drain(old, cursor, Number.POSITIVE_INFINITY);
      cursor = { ino: current.ino, offset: 0 };
      await this.saveCursor(cursor);
    }
    if (current.size < cursor.offset) cursor = { ino: current.ino, offset: 0 }; // truncated by hand
    handled += await this.drain(this.path, cursor, current.size);
    if (!handled && this.pending.size) await this.record({ byInstance: new Map(), lines: 0 }, `pending:${this.ctx.clock.now()}`);
    return handled;
  }

  /** Reads `file` from the cursor to `end` in chunks, handling and saving each. */
  private async drain(file: string, cursor: Cursor, end: number): Promise<number> {
    const handle = await open(file, "r");
    let handled = 0;
    try {
      const buffer = Buffer.alloc(CHUNK_BYTES);
      for (;;) {
        // A chunk planned before a restart is read to its planned end, no further.
        const length = cursor.end ? Math.min(CHUNK_BYTES, cursor.end - cursor.offset) : CHUNK_BYTES;
        const { bytesRead } = await handle.read(buffer, 0, length, cursor.offset);
        if (bytesRead === 0) break;
        const lastNewline = buffer.subarray(0, bytesRead).lastIndexOf(10);
        if (lastNewline < 0) break; // a line still being written
        const chunkEnd = cursor.offset + lastNewline + 1;
        if (cursor.end !== chunkEnd) await this.saveCursor({ ...cursor, end: chunkEnd });
        const visits = this.parse(buffer.subarray(0, lastNewline + 1).toString("utf8"));
        await this.record(visits, `${cursor.ino}:${cursor.offset}:${chunkEnd}`);
        cursor.offset = chunkEnd;
        cursor.end = undefined;
        await this.saveCursor(cursor);
        handled += visits.lines;
        if (cursor.offset >= end) break;
      }
    } finally {
      await handle.close();
    }
    return handled;
  }

  private parse(text: string): Visits {
    const suffix = `.${this.ctx.config.BASE_DOMAIN}`;
    const byInstance = new Map<string, number[]>();
    let lines = 0;
    for (const line of text.split("\n")) {
      if (!line) continue;
      lines += 1;
      let entry: { ts?: unknown; request?: { host?: unknown } };
      try {
        entry = JSON.parse(line);
      } catch {
        continue;
      }
      const host = typeof entry.request?.host === "string" ? entry.request.host.toLowerCase().replace(/:\d+$/, "") : "";
      if (!host.endsWith(suffix) || typeof entry.ts !== "number") continue;
      const id = host.slice(0, -suffix.length);
      if (!INSTANCE_ID.test(id)) continue;
      const times = byInstance.get(id) ?? [];
      times.push(Math.round(entry.ts * 1000));
      byInstance.set(id, times);
    }
    return { byInstance, lines };
  }

  /**
   * Credits the requests to instances that are running (their app from Redis) or that ended after
   * the request (a session row): a request to an unknown or ended instance's host is a 404 from the
   * proxy, not a visit. `chunk` names what was read (file, start, end), for the events' ids.
   */
  private async record({ byInstance }: Visits, chunk: string): Promise<void> {
    // Requests to an instance not known yet wait here: it may have ended before this read while its
    // session row (its `acquired` event) is still on its way to MariaDB. Retried each step for a minute.
    const now = this.ctx.clock.now();
    const waited = new Set(this.pending.keys());
    for (const [id, waiting] of this.pending) byInstance.set(id, [...waiting.times, ...(byInstance.get(id) ?? [])]);
    if (!byInstance.size) return;
    const ids = [...byInstance.keys()];
    const live = await this.ctx.redis.mget(ids.map((id) => this.ctx.keys.loc(id)));
    const apps = new Map<string, { app: string; endedMs: number | null }>();
    ids.forEach((id, index) => {
      const app = live[index];
      if (app) apps.set(id, { app, endedMs: null });
    });
    for (const row of await sessionsOf(
      this.ctx,
      ids.filter((id) => !apps.has(id)),
    ))
      apps.set(row.instance, { app: row.app, endedMs: row.endedAt?.getTime() ?? null });
    const published: AnalyticsEvent[] = [];
    const resolved: string[] = [];
    const firstSeen: { id: string; app: string; live: boolean }[] = [];
    for (const [id, times] of byInstance) {
      const known = apps.get(id);
      if (!known) {
        const since = this.pending.get(id)?.sinceMs ?? now;
        if (now - since < PENDING_MS && (this.pending.has(id) || this.pending.size < PENDING_MAX))
          this.pending.set(id, { times, sinceMs: since });
        else this.pending.delete(id); // never an instance of ours (a guessed host name), or gone for good
        continue;
      }
      resolved.push(id);
      const counted = known.endedMs === null ? times : times.filter((at) => at <= known.endedMs!);
      if (!counted.length) continue;
      const first = Math.min(...counted);
      // A waiting instance's requests came from earlier chunks: its own id part keeps them apart.
      const source = waited.has(id) ? `${chunk}:waited:${first}` : chunk;
      published.push(
        this.event("requests", requestsId(id, source), known.app, id, first, {
          count: counted.length,
          last_at_ms: Math.max(...counted),
        }),
      );
      // Once per instance from this reader (its fixed id makes any repeat one row anyway).
      if (!this.visited.has(id)) {
        published.push(this.event("visited", `vi-${id}`, known.app, id, first, {}));
        firstSeen.push({ id, app: known.app, live: known.endedMs === null });
      }
    }
    // The running instance may now be extended by its visitor (`extend_requires_visit`): marked
    // first, so a visitor can extend while NATS is away (the mark is idempotent; a retry marks again).
    for (const { id, app, live: running } of firstSeen)
      if (running) await markVisitedScript.run(this.ctx.redis, { inst: this.ctx.keys.app(app).inst(id) }, {});
    // Stored by JetStream before the cursor moves on: with NATS away this step fails and is retried
    // (a waiting instance's requests wait on).
    await publishEvents(this.ctx, published);
    for (const id of resolved) this.pending.delete(id);
    for (const { id } of firstSeen) {
      if (this.visited.size >= VISITED_MEMORY) this.visited.clear();
      this.visited.add(id);
    }
    metrics.visitsRead.inc(published.reduce((sum, event) => sum + (Number(event.data.count) || 0), 0));
  }

  private event(
    type: "requests" | "visited",
    id: string,
    app: string,
    instance: string,
    atMs: number,
    data: AnalyticsEvent["data"],
  ): AnalyticsEvent {
    return { id, type, app, instance, atMs, request_id: null, visitor: null, data };
  }

  private async loadCursor(): Promise<Cursor | null> {
    const raw = await this.ctx.redis.hmget(this.ctx.keys.visitsCursor, "ino", "offset", "end");
    const ino = Number(raw[0]);
    const offset = Number(raw[1]);
    const end = Number(raw[2] ?? 0);
    if (!raw[0] || !Number.isFinite(ino) || !Number.isFinite(offset)) return null;
    return end > offset ? { ino, offset, end } : { ino, offset };
  }

  private async saveCursor(cursor: Cursor): Promise<void> {
    await this.ctx.redis.hset(this.ctx.keys.visitsCursor, { ino: cursor.ino, offset: cursor.offset, end: cursor.end ?? 0 });
  }

  /** Caddy renames a full log to `<name>-<timestamp>.<ext>` in the same directory. */
  private async findByInode(ino: number): Promise<string | null> {
    const dir = dirname(this.path);
    const stem = basename(this.path).replace(/\.[^.]*$/, "");
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (!name.startsWith(stem)) continue;
      const file = join(dir, name);
      if ((await stat(file).catch(() => null))?.ino === ino) return file;
    }
    this.log.warn({ ino }, "the rotated access log is gone; its unread lines are not counted");
    return null;
  }
}

/** A chunk's requests event id: the instance and the chunk (file, start, end), hashed to fit the column. */
function requestsId(instance: string, chunk: string): string {
  return `rq-${createHash("sha256").update(`${instance}\u0000${chunk}`).digest("base64url").slice(0, 32)}`;
}
