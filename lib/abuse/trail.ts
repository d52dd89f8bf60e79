import { and, desc, eq, gte, isNull, lt, lte, or, sql } from "drizzle-orm";
import { z } from "zod";
import type { Caller } from "../audit/model";
import type { Ctx } from "../context";
import { abuseTrail } from "../db/schema";
import { AppError, invalidInput } from "../errors";
import { mayUseApp } from "../keys/authenticate";
import { decodeInstance } from "../store/hashes";
import { parseJson } from "../store/messages";

/** What the scripts that end an assignment queue on `{app}:trail` (`TRAIL_LUA`, lib/store/scripts.ts). */
const TrailEntry = z.object({ id: z.string().max(40), ip: z.string().max(64), assigned_at: z.number(), ended_at: z.number() });

const BATCH = 500;

/**
 * Moves an app's queued trail entries to MariaDB and records the instances it holds now (ended_at
 * empty), so the table answers "who had it" for running demos too. Taken from the list atomically
 * (LPOP with a count), so two workers never write or lose the same entry; put back when MariaDB
 * refuses them. Returns how many ended assignments it wrote.
 */
export async function flushTrail(ctx: Ctx, app: string): Promise<number> {
  const keys = ctx.keys.app(app);
  let written = 0;
  for (;;) {
    const raw = (await ctx.redis.lpop(keys.trail, BATCH)) ?? [];
    if (!raw.length) break;
    const entries = raw.flatMap((text) => {
      const entry = parseJson(TrailEntry, text);
      return entry ? [entry] : [];
    });
    try {
      await upsert(
        ctx,
        entries.map((entry) => ({
          instance: entry.id,
          app,
          clientIp: entry.ip,
          assignedAt: new Date(entry.assigned_at),
          endedAt: new Date(entry.ended_at),
        })),
      );
    } catch (error) {
      await ctx.redis.lpush(keys.trail, ...raw.reverse());
      throw error;
    }
    written += entries.length;
    if (raw.length < BATCH) break;
  }
  await recordHolders(ctx, app);
  return written;
}

const HOLDER = ["client_ip", "assigned_at"] as const;

/** The instances of an app assigned right now, with their holders (from their Redis records). */
async function recordHolders(ctx: Ctx, app: string): Promise<void> {
  const keys = ctx.keys.app(app);
  const ids = await ctx.redis.zrange(keys.expiry, "0", "-1");
  if (!ids.length) return;
  const pipeline = ctx.redis.pipeline();
  for (const id of ids) pipeline.hmget(keys.inst(id), ...HOLDER);
  const held = ((await pipeline.exec()) ?? []).map(([, value]) => decodeInstance(HOLDER, (value ?? []) as (string | null)[]));
  const rows = ids.flatMap((id, index) => {
    const { client_ip: ip, assigned_at: at } = held[index];
    return ip && at ? [{ instance: id, app, clientIp: ip, assignedAt: new Date(at), endedAt: null }] : [];
  });
  await upsert(ctx, rows);
}

async function upsert(ctx: Ctx, rows: (typeof abuseTrail.$inferInsert)[]): Promise<void> {
  if (!rows.length) return;
  await ctx.db
    .insert(abuseTrail)
    .values(rows)
    .onDuplicateKeyUpdate({ set: { endedAt: sql.raw("COALESCE(VALUES(ended_at), ended_at)") } });
}

const TrailQuery = z.object({
  app: z.string().max(64).optional(),
  ip: z.string().max(64).optional(),
  instance: z.string().max(40).optional(),
  /** Assignments that overlap this moment (ISO 8601): who held a demo at 14:02. */
  at: z.iso.datetime({ offset: true }).optional(),
});
/** The trail for a query string (`?app=&ip=&instance=&at=`), newest first (at most 200 rows), within the caller's apps. */
export async function readTrail(ctx: Ctx, caller: Pick<Caller, "apps">, params: URLSearchParams) {
  const parsed = TrailQuery.safeParse(Object.fromEntries(params));
  if (!parsed.success) throw invalidInput(parsed.error.issues);
  const query = parsed.data;
  if (query.app && !mayUseApp(caller, query.app)) throw new AppError("NOT_FOUND", `app "${query.app}" not found`);
  const at = query.at ? new Date(query.at) : null;
  const where = and(
    query.app ? eq(abuseTrail.app, query.app) : undefined,
    caller.apps && !query.app ? or(...caller.apps.map((app) => eq(abuseTrail.app, app))) : undefined,
    query.ip ? eq(abuseTrail.clientIp, query.ip) : undefined,
    query.instance ? eq(abuseTrail.instance, query.instance) : undefined,
    at ? and(lte(abuseTrail.assignedAt, at), or(isNull(abuseTrail.endedAt), gte(abuseTrail.endedAt, at))) : undefined,
  );
  const rows = await ctx.db.select().from(abuseTrail).where(where).orderBy(desc(abuseTrail.assignedAt)).limit(200);
  return rows.map((row) => ({
    instance: row.instance,
    app: row.app,
    client_ip: row.clientIp,
    assigned_at: row.assignedAt.toISOString(),
    ended_at: row.endedAt?.toISOString() ?? null,
  }));
}

/** Retention: assignments that ended (or began, when never ended) more than ABUSE_TRAIL_DAYS ago. */
export async function pruneTrail(ctx: Ctx, nowMs = ctx.clock.now()): Promise<number> {
  const cutoff = new Date(nowMs - ctx.config.ABUSE_TRAIL_DAYS * 86_400_000);
  const [result] = await ctx.db
    .delete(abuseTrail)
    .where(or(lt(abuseTrail.endedAt, cutoff), and(isNull(abuseTrail.endedAt), lt(abuseTrail.assignedAt, cutoff))));
  return (result as { affectedRows?: number }).affectedRows ?? 0;
}
