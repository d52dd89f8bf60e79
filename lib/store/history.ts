/**
 * The dashboard's history in Redis (ARCHITECTURE.md, "Admin dashboard"): pool levels a minute (the
 * workers), acquisitions by outcome a minute (the web processes), the last failures the workers
 * handled (a capped list). Written by worker and web, read by lib/admin/overview.ts.
 */
import type { Ctx } from "../context";
import { metrics } from "../metrics";
import { FailureEntry, parseJson } from "./messages";
import { as, execPipeline } from "./pipeline";
import type { PoolLevels } from "./pool-levels";

const MINUTE_MS = 60_000;
/** History is kept a day (and an hour of slack); the overview shows the last hour. */
const KEEP_SECONDS = 25 * 3600;
const FAILURES_KEPT = 200;

export const OUTCOMES = ["ok", "exhausted", "capped", "challenge", "blocked", "rate_limited", "paused"] as const;
export const LEVELS = ["ready", "warming", "assigned"] as const;
export type Outcome = (typeof OUTCOMES)[number];

const minuteOf = (ms: number) => Math.floor(ms / MINUTE_MS) * MINUTE_MS;

/** Worker: the pool levels of this minute (a later sample in the same minute replaces an earlier one). */
export async function recordPoolLevels(ctx: Ctx, levels: PoolLevels[], nowMs = ctx.clock.now()): Promise<void> {
  if (!levels.length) return;
  const key = ctx.keys.history(minuteOf(nowMs));
  const fields: Record<string, number> = {};
  for (const level of levels) for (const state of LEVELS) fields[`${level.app}|${state}`] = level[state];
  await ctx.redis.pipeline().hset(key, fields).expire(key, KEEP_SECONDS).exec();
}

/** Worker: one failure it handled, newest first, the list capped. */
export async function recordFailure(ctx: Ctx, failure: Omit<FailureEntry, "at">): Promise<void> {
  const entry: FailureEntry = { at: ctx.clock.now(), ...failure, error: failure.error?.slice(0, 500) ?? null };
  await ctx.redis
    .pipeline()
    .lpush(ctx.keys.failures, JSON.stringify(entry))
    .ltrim(ctx.keys.failures, 0, FAILURES_KEPT - 1)
    .exec();
}

/**
 * Web: adds what this process's acquire counter gained since the last flush to the current
 * minute. Runs on a timer, never on the acquire path; every web process adds only its own gains.
 */
export class AcquisitionHistory {
  private readonly seen = new Map<string, number>();

  async flush(ctx: Ctx, nowMs = ctx.clock.now()): Promise<void> {
    const { values } = await metrics.acquisitions.get();
    const gains: Record<string, number> = {};
    for (const { labels, value } of values) {
      const app = String(labels.app ?? "");
      const result = String(labels.result ?? "");
      if (!(OUTCOMES as readonly string[]).includes(result) || app === "unknown") continue;
      const field = `${app}|${result}`;
      const gained = value - (this.seen.get(field) ?? 0);
      this.seen.set(field, value);
      if (gained > 0) gains[field] = gained;
    }
    if (!Object.keys(gains).length) return;
    const key = ctx.keys.history(minuteOf(nowMs));
    const pipeline = ctx.redis.pipeline();
    for (const [field, gained] of Object.entries(gains)) pipeline.hincrby(key, field, gained);
    await execPipeline(pipeline.expire(key, KEEP_SECONDS));
  }
}

/** Levels are null in a minute no worker sampled (a gap, not a zero); counts are 0 there. */
export type Series = Record<(typeof LEVELS)[number], (number | null)[]> & Record<Outcome, number[]>;

/** The last `minutes` minutes, oldest first: per app and in total, levels and acquisitions by outcome. */
export async function readHistory(ctx: Ctx, minutes = 60, nowMs = ctx.clock.now()) {
  const last = minuteOf(nowMs);
  const stamps = Array.from({ length: minutes }, (_, index) => last - (minutes - 1 - index) * MINUTE_MS);
  const pipeline = ctx.redis.pipeline();
  for (const stamp of stamps) pipeline.hgetall(ctx.keys.history(stamp));
  const buckets = await execPipeline(pipeline);
  const empty = (): Series => ({
    ready: Array(minutes).fill(null),
    warming: Array(minutes).fill(null),
    assigned: Array(minutes).fill(null),
    ok: Array(minutes).fill(0),
    exhausted: Array(minutes).fill(0),
    capped: Array(minutes).fill(0),
    challenge: Array(minutes).fill(0),
    blocked: Array(minutes).fill(0),
    rate_limited: Array(minutes).fill(0),
    paused: Array(minutes).fill(0),
  });
  const apps: Record<string, Series> = {};
  const total = empty();
  buckets.forEach((bucket, index) => {
    for (const [field, raw] of Object.entries((bucket ?? {}) as Record<string, string>)) {
      const [app, measure] = field.split("|") as [string, keyof Series];
      if (!app || !(measure in total)) continue;
      const value = Number(raw) || 0;
      apps[app] ??= empty();
      apps[app][measure][index] = value;
      total[measure][index] = (total[measure][index] ?? 0) + value;
    }
  });
  return { minutes: stamps, total, apps };
}

export async function readFailures(ctx: Ctx, count = 20): Promise<FailureEntry[]> {
  const raw = as.members(await ctx.redis.lrange(ctx.keys.failures, 0, count - 1));
  return raw.flatMap((text) => parseJson(FailureEntry, text) ?? []);
}
