import { createHash } from "node:crypto";
import { z } from "zod";
import type { Ctx } from "../context";
import { sessionsOf } from "../db/events";
import { AppError, notFound } from "../errors";
import { INSTANCE_ID } from "../ids";
import { type Actor, mayUseApp } from "../keys/authenticate";
import type { AnalyticsEvent } from "./model";
import { publishEvents } from "./publish";

/** How long after its end an instance can still be credited with a conversion. */
export const CONVERT_WINDOW_MS = 7 * 86_400_000;

/**
 * Most distinct labels one instance is credited with: its container holds a token, and code in a
 * demo must not fill the events table by inventing labels.
 */
export const MAX_CONVERSION_LABELS = 16;

export const ConvertInput = z
  .object({
    /** What converted ("signup", "paid" …); one conversion per instance and label. */
    label: z
      .string()
      .max(64)
      .regex(/^[\w .:/-]*$/, "letters, digits, space and . : / - _ only")
      .default(""),
    value: z.number().finite().min(0).max(1e12).optional(),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, "an ISO 4217 code such as EUR")
      .optional(),
  })
  .strict();
export type ConvertInput = z.infer<typeof ConvertInput>;

/** The app of an instance that is running, or that ended less than 7 days ago; null when neither. */
async function appOfSession(ctx: Ctx, id: string): Promise<string | null> {
  const live = await ctx.redis.get(ctx.keys.loc(id));
  if (live) return live;
  const [row] = await sessionsOf(ctx, [id]);
  if (!row?.assignedAt) return null;
  return row.endedAt && ctx.clock.now() - row.endedAt.getTime() > CONVERT_WINDOW_MS ? null : row.app;
}

/** Counts a label against the instance's cap; a repeated label is free (the call is idempotent). */
async function claimLabel(ctx: Ctx, id: string, label: string): Promise<void> {
  const key = ctx.keys.conversions(id);
  const replies =
    (await ctx.redis
      .multi()
      .sadd(key, label)
      .scard(key)
      .pexpire(key, CONVERT_WINDOW_MS + 86_400_000)
      .exec()) ?? [];
  const [added, count] = replies.map(([error, value]) => {
    if (error) throw error;
    return Number(value);
  });
  if (added && count > MAX_CONVERSION_LABELS) {
    await ctx.redis.srem(key, label);
    throw new AppError("CONFLICT", `an instance is credited with at most ${MAX_CONVERSION_LABELS} different conversion labels`);
  }
}

/**
 * Credits an instance with a conversion (ARCHITECTURE.md, "Funnel analytics"): the app's own sign-up
 * flow calls it from the container with the instance's conversion token (`TRYIT_CONVERT_TOKEN`), or
 * from the owner's servers with a secret key that has `events:write`. Idempotent per instance and label: the
 * event id is derived from both, so a repeated call is one row. Published and acknowledged by
 * JetStream before the answer — a conversion is not dropped silently; with NATS down it is a 503.
 */
export async function convert(ctx: Ctx, id: string, input: ConvertInput, actor: Actor, requestId: string) {
  if (!INSTANCE_ID.test(id)) throw notFound();
  const app = await appOfSession(ctx, id);
  if (!app || !mayUseApp(actor, app)) throw new AppError("NOT_FOUND", "instance not found, or it ended more than 7 days ago");
  await claimLabel(ctx, id, input.label);
  const eventId = `cv-${createHash("sha256").update(`${id}\u0000${input.label}`).digest("base64url").slice(0, 32)}`;
  const data: AnalyticsEvent["data"] = { label: input.label };
  if (input.value !== undefined) data.value = input.value;
  if (input.currency) data.currency = input.currency;
  const event: AnalyticsEvent = {
    id: eventId,
    type: "converted",
    app,
    instance: id,
    atMs: ctx.clock.now(),
    request_id: requestId,
    visitor: null,
    data,
  };
  try {
    await publishEvents(ctx, [event]);
  } catch (error) {
    ctx.log.warn({ instance: id, app, requestId, err: (error as Error).message }, "conversion not recorded: NATS unavailable");
    throw new AppError("UNAVAILABLE", "conversions cannot be recorded right now; retry", {
      retryAfterSeconds: 5,
      details: { dependency: "nats" },
    });
  }
  return {
    id,
    app,
    label: input.label,
    ...(input.value === undefined ? {} : { value: input.value }),
    ...(input.currency ? { currency: input.currency } : {}),
    status: "recorded" as const,
  };
}
