import { eq } from "drizzle-orm";
import { z } from "zod";
import { Slug } from "../app-spec";
import type { Ctx } from "../context";
import { countSessions, rollupsByHour, rollupTotals, sessionPercentiles, sessionsIn, sourcesBy } from "../db/events";
import { apps } from "../db/schema";
import { AppError, invalidInput } from "../errors";
import { type Actor, mayUseApp } from "../keys/authenticate";

/** The funnel's steps, in order (ARCHITECTURE.md, "Funnel analytics"). */
export const FUNNEL_STEPS = ["impression", "click", "acquired", "visited", "extended", "converted"] as const;
export type FunnelStep = (typeof FUNNEL_STEPS)[number];
/** Steps counted once per instance: their rollups split "first" from "again". */
const ONCE_PER_INSTANCE = new Set<string>(["extended", "converted"]);
export const REJECT_REASONS = ["exhausted", "capped", "challenge", "blocked", "rate_limited", "paused"] as const;

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const MAX_RANGE_MS = 400 * DAY_MS;

const Instant = z.iso.datetime({ offset: true }).transform((text) => new Date(text));

/** The query of the analytics views: an app and a range (default: the last 7 days). */
export const RangeQuery = z
  .object({
    app: Slug,
    from: Instant.optional(),
    to: Instant.optional(),
    /** IANA time zone the viewer's days are cut in (the time series only). */
    tz: z
      .string()
      .max(64)
      .refine((zone) => {
        try {
          new Intl.DateTimeFormat("en", { timeZone: zone });
          return true;
        } catch {
          return false;
        }
      }, "an IANA time zone such as Europe/Paris")
      .default("UTC"),
  })
  .transform((query, issues) => {
    const to = query.to ?? new Date();
    const from = query.from ?? new Date(to.getTime() - 7 * DAY_MS);
    if (from >= to) issues.addIssue({ code: "custom", path: ["from"], message: "from must be before to" });
    if (to.getTime() - from.getTime() > MAX_RANGE_MS)
      issues.addIssue({ code: "custom", path: ["from"], message: "a range may span at most 400 days" });
    return { app: query.app, from, to, tz: query.tz };
  });
export type RangeQuery = z.output<typeof RangeQuery>;

/** Parses query parameters into a range, or a 400 naming the bad ones. */
export function parseRange(params: URLSearchParams): RangeQuery {
  const parsed = RangeQuery.safeParse(
    Object.fromEntries([...params].filter(([name]) => ["app", "from", "to", "tz"].includes(name))),
  );
  if (!parsed.success) throw invalidInput(parsed.error.issues);
  return parsed.data;
}

async function ensureApp(ctx: Ctx, slug: string): Promise<void> {
  const [row] = await ctx.db.select({ slug: apps.slug }).from(apps).where(eq(apps.slug, slug)).limit(1);
  if (!row) throw new AppError("NOT_FOUND", `no app "${slug}"`);
}

export interface Funnel {
  app: string;
  from: string;
  to: string;
  steps: { name: FunnelStep; count: number }[];
  rejected: Record<string, number>;
  sessions: { count: number; median_seconds: number | null; p90_seconds: number | null };
  first_visit: { median_seconds: number | null; p90_seconds: number | null };
}

/** The funnel of an app over a range, from the hourly rollups and the sessions (the API's answer). */
export async function funnel(ctx: Ctx, range: RangeQuery): Promise<Funnel> {
  await ensureApp(ctx, range.app);
  const rows = await rollupTotals(ctx, range);
  const counts = new Map<string, number>();
  const rejected: Record<string, number> = Object.fromEntries(REJECT_REASONS.map((reason) => [reason, 0]));
  for (const row of rows) {
    const n = Number(row.count);
    if (row.type === "rejected") rejected[row.detail] = (rejected[row.detail] ?? 0) + n;
    if (ONCE_PER_INSTANCE.has(row.type) && row.detail !== "first") continue;
    counts.set(row.type, (counts.get(row.type) ?? 0) + n);
  }
  const [lengths, firstVisits, sessionCount] = await Promise.all([
    sessionPercentiles(ctx, range, "ended_at"),
    sessionPercentiles(ctx, range, "first_visit_at"),
    countSessions(ctx, range),
  ]);
  return {
    app: range.app,
    from: range.from.toISOString(),
    to: range.to.toISOString(),
    steps: FUNNEL_STEPS.map((name) => ({ name, count: counts.get(name) ?? 0 })),
    rejected,
    sessions: { count: sessionCount, median_seconds: lengths.p50, p90_seconds: lengths.p90 },
    first_visit: { median_seconds: firstVisits.p50, p90_seconds: firstVisits.p90 },
  };
}

/** The funnel for an API key (`GET /api/v1/analytics/funnel`): only of apps the key may use. */
export async function funnelForKey(ctx: Ctx, params: URLSearchParams, actor: Actor): Promise<Funnel> {
  const range = parseRange(params);
  // Another tenant's app is answered as one that does not exist (ensureApp's 404).
  if (!mayUseApp(actor, range.app)) throw new AppError("NOT_FOUND", `no app "${range.app}"`);
  return funnel(ctx, range);
}

export interface SeriesPoint {
  /** Start of the bucket (an hour, or a day in the viewer's zone), ISO. */
  at: string;
  label: string;
  impression: number;
  click: number;
  acquired: number;
  visited: number;
  converted: number;
  rejected: number;
}

/** Events per bucket: hours for ranges up to two days, else days cut in the viewer's time zone. */
export async function series(ctx: Ctx, range: RangeQuery): Promise<{ bucket: "hour" | "day"; points: SeriesPoint[] }> {
  const rows = await rollupsByHour(ctx, range);
  const bucket = range.to.getTime() - range.from.getTime() <= 2 * DAY_MS ? "hour" : "day";
  const dayOf = new Intl.DateTimeFormat("en-CA", { timeZone: range.tz, year: "numeric", month: "2-digit", day: "2-digit" });
  const hourOf = new Intl.DateTimeFormat("en-GB", {
    timeZone: range.tz,
    day: "2-digit",
    month: "short",
    hour: "2-digit",
    minute: "2-digit",
  });
  const keyOf = (date: Date) => (bucket === "hour" ? date.toISOString() : dayOf.format(date));
  const points = new Map<string, SeriesPoint>();
  // Every bucket of the range, so a quiet hour shows as zero rather than as a gap (a day is the
  // hours it contains in the viewer's zone).
  for (let t = Math.floor(range.from.getTime() / HOUR_MS) * HOUR_MS; t < range.to.getTime(); t += HOUR_MS) {
    const date = new Date(t);
    const key = keyOf(date);
    if (!points.has(key)) {
      points.set(key, {
        at: date.toISOString(),
        label: bucket === "hour" ? hourOf.format(date) : key,
        impression: 0,
        click: 0,
        acquired: 0,
        visited: 0,
        converted: 0,
        rejected: 0,
      });
    }
  }
  for (const row of rows) {
    const point = points.get(keyOf(row.hour));
    if (!point) continue;
    if (ONCE_PER_INSTANCE.has(row.type) && row.detail !== "first") continue;
    const type = row.type as keyof SeriesPoint;
    if (type in point && type !== "at" && type !== "label") (point[type] as number) += Number(row.count);
  }
  return { bucket, points: [...points.values()] };
}

/** The pages the button was seen on and clicked from, and the referrers that brought visitors, most first. */
export async function topSources(ctx: Ctx, range: RangeQuery, limit = 10) {
  const [pages, referrers] = await Promise.all([sourcesBy(ctx, range, "page", limit), sourcesBy(ctx, range, "referrer", limit)]);
  return { pages, referrers };
}

/** The sessions of the range, newest first (the CSV export). */
export async function sessionRows(ctx: Ctx, range: RangeQuery, limit = 100_000) {
  await ensureApp(ctx, range.app);
  return sessionsIn(ctx, range, limit);
}
