import type { Ctx } from "../context";
import { notFound } from "../errors";
import { INSTANCE_ID } from "../ids";
import { type Actor, mayUseApp } from "../keys/authenticate";

/**
 * Finds the app of an instance id. A malformed id, an unknown one and one of an app the key may not
 * use are the same 404, so ids cannot be probed.
 */
export async function locate(ctx: Ctx, id: string, actor: Actor) {
  if (!INSTANCE_ID.test(id)) throw notFound();
  const app = await ctx.redis.get(ctx.keys.loc(id));
  if (!app || !mayUseApp(actor, app)) throw notFound();
  return { app, keys: ctx.keys.app(app) };
}
