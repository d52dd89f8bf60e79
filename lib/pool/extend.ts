import { z } from "zod";
import type { Ctx } from "../context";
import { AppError, notFound } from "../errors";
import { emitEvent } from "../events/publish";
import { callerClass } from "../gate/policy";
import type { Actor } from "../keys/authenticate";
import { extendScript } from "../store/scripts";
import { locate } from "./locate";

export const ExtendInput = z.object({
  /** Absent: the app's extend step (`extend_minutes`). */
  minutes: z.number({ error: "minutes must be a whole number from 1 to 60" }).int().min(1).max(60).optional(),
});
export type ExtendInput = z.infer<typeof ExtendInput>;

const REASONS = {
  max_ttl: (maxTtlSeconds: number) => `an instance may have at most ${maxTtlSeconds} seconds remaining`,
  max_lifetime: () => "this demo has reached its longest life and cannot be extended further",
  max_extensions: () => "this demo has used all its extensions",
};

/**
 * Adds minutes (or the app's extend step) to an assigned instance, atomically within three limits:
 * the remaining time (max TTL), the total life (max lifetime) and the number of extensions.
 */
export async function extend(ctx: Ctx, id: string, input: ExtendInput, actor: Actor, requestId?: string) {
  const { app, keys } = await locate(ctx, id, actor);
  const now = ctx.clock.now();
  const reply = await extendScript.run(
    ctx.redis,
    { inst: keys.inst(id), expiry: keys.expiry, cfg: keys.cfg },
    {
      id,
      nowMs: now,
      addMs: (input.minutes ?? 0) * 60_000,
      defaultMaxTtlMs: ctx.config.POOL_MAX_TTL,
      defaultMaxExtensions: ctx.config.POOL_MAX_EXTENSIONS,
      channel: ctx.keys.events,
      // Secret keys are exempt: a server may keep an instance it has not opened.
      visitOnly: callerClass(actor) === "server" ? 0 : 1,
    },
  );
  if (reply.status === "NOT_FOUND") throw notFound();
  if (reply.status === "NOT_VISITED") {
    throw new AppError("NOT_VISITED", "open the demo before extending it: a demo nobody has used cannot be kept alive", {
      details: { reason: "not_visited" },
    });
  }
  if (reply.status === "LIMIT") {
    const maxTtlSeconds = Math.round(reply.maxTtlMs / 1000);
    throw new AppError("MAX_TTL_EXCEEDED", REASONS[reply.limit](maxTtlSeconds), {
      details: {
        limit: reply.limit,
        max_ttl_seconds: maxTtlSeconds,
        ttl_remaining: Math.max(0, Math.floor((reply.expiresAtMs - now) / 1000)),
        extensions: reply.extensions,
        max_extensions: reply.maxExtensions,
        max_expires_at: reply.maxExpiresAtMs ? new Date(reply.maxExpiresAtMs).toISOString() : null,
      },
    });
  }
  emitEvent(ctx, { type: "extended", app, instance: id, requestId, data: { extensions: reply.extensions } });
  return {
    id,
    ttl_remaining: Math.floor((reply.expiresAtMs - now) / 1000),
    expires_at: new Date(reply.expiresAtMs).toISOString(),
    extensions: reply.extensions,
  };
}
