import type { Ctx } from "../context";
import { notFound } from "../errors";
import { INSTANCE_ID } from "../ids";
import { appKeys } from "../store/keys";

/** Finds the app of an instance id; any malformed or unknown id is the same 404, so ids cannot be probed. */
export async function locate(ctx: Ctx, id: string) {
  if (!INSTANCE_ID.test(id)) throw notFound();
  const app = await ctx.redis.get(ctx.keys.loc(id));
  if (!app) throw notFound();
  return { app, keys: appKeys(ctx.config.VALKEY_PREFIX, app) };
}
