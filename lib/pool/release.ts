import type { Ctx } from "../context";
import { notFound } from "../errors";
import type { Actor } from "../keys/authenticate";
import { metrics } from "../metrics";
import { locate } from "./locate";
import { removeRecord } from "./remove";
import { trashEntry } from "./trash";

/**
 * Ends a visitor's instance now. The record leaves every list at once (a second call is 404); the
 * id goes on the app's cleanup queue, which a worker drains to remove the container and route.
 */
export async function release(ctx: Ctx, id: string, actor: Actor, requestId: string) {
  const { app, keys } = await locate(ctx, id, actor);
  const state = await removeRecord(ctx, keys, id, { expected: "assigned", event: "released", nowMs: Date.now() });
  if (!state) throw notFound();
  await ctx.redis.pipeline().rpush(keys.trash, trashEntry(id, requestId)).del(ctx.keys.loc(id)).exec();
  metrics.released.inc({ app });
  return { id, status: "released" as const, message: "instance released; it is being destroyed" };
}
