import type { Ctx } from "../context";
import { notFound } from "../errors";
import type { Actor } from "../keys/authenticate";
import { metrics } from "../metrics";
import type { TrashEntry } from "../store/messages";
import { locate } from "./locate";
import { removeRecord } from "./remove";

/**
 * Ends a visitor's instance now. The record leaves every list at once (a second call is 404); the
 * id goes on the app's cleanup queue, which a worker drains to remove the container and route.
 */
export async function release(ctx: Ctx, id: string, actor: Actor, requestId: string) {
  const { app, keys } = await locate(ctx, id, actor);
  const state = await removeRecord(ctx, keys, id, { expected: "assigned", event: "released", nowMs: Date.now() });
  if (!state) throw notFound();
  const entry: TrashEntry = { id, request_id: requestId };
  await ctx.redis.pipeline().rpush(keys.trash, JSON.stringify(entry)).del(ctx.keys.loc(id)).exec();
  metrics.released.inc({ app });
  return { id, status: "released" as const, message: "instance released; it is being destroyed" };
}
