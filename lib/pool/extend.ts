import { z } from "zod";
import type { Ctx } from "../context";
import { AppError, notFound } from "../errors";
import type { Actor } from "../keys/authenticate";
import { extendScript } from "../store/scripts";
import { locate } from "./locate";

export const ExtendInput = z.object({
  minutes: z.number({ error: "minutes must be a whole number from 1 to 60" }).int().min(1).max(60),
});
export type ExtendInput = z.infer<typeof ExtendInput>;

/** Adds minutes to an assigned instance; the new remaining time may not exceed the app's max TTL (atomic). */
export async function extend(ctx: Ctx, id: string, input: ExtendInput, actor: Actor) {
  const { keys } = await locate(ctx, id, actor);
  const now = Date.now();
  const reply = await extendScript.run(
    ctx.redis,
    { inst: keys.inst(id), expiry: keys.expiry, cfg: keys.cfg },
    { id, nowMs: now, addMs: input.minutes * 60_000, defaultMaxTtlMs: ctx.config.POOL_MAX_TTL, channel: ctx.keys.events },
  );
  if (reply.status === "NOT_FOUND") throw notFound();
  if (reply.status === "MAX_TTL_EXCEEDED") {
    const maxTtlSeconds = Math.round(reply.maxTtlMs / 1000);
    const remainingSeconds = Math.max(0, Math.floor((reply.expiresAtMs - now) / 1000));
    throw new AppError("MAX_TTL_EXCEEDED", `an instance may have at most ${maxTtlSeconds} seconds remaining`, {
      details: { max_ttl_seconds: maxTtlSeconds, ttl_remaining: remainingSeconds },
    });
  }
  return { id, ttl_remaining: Math.floor((reply.expiresAtMs - now) / 1000), expires_at: new Date(reply.expiresAtMs).toISOString() };
}
