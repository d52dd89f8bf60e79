import type { Ctx } from "../context";
import { recordOf } from "./model";
import type { ApiKeyRow } from "../db/schema";

/** Active keys by hash in one Redis hash, so the web process never reads MariaDB to authenticate. */
export async function mirrorKey(ctx: Ctx, row: ApiKeyRow): Promise<void> {
  await ctx.redis.hset(ctx.keys.apiKeys, row.hash, JSON.stringify(recordOf(row)));
}

export async function unmirrorKey(ctx: Ctx, hash: string): Promise<void> {
  await ctx.redis.hdel(ctx.keys.apiKeys, hash);
}

/** Level-triggered: the mirror becomes exactly the active keys of the database. */
export async function syncKeyMirror(ctx: Ctx, active: ApiKeyRow[]): Promise<void> {
  const wanted = new Map(active.map((row) => [row.hash, JSON.stringify(recordOf(row))]));
  const present = await ctx.redis.hgetall(ctx.keys.apiKeys);
  const stale = Object.keys(present).filter((hash) => !wanted.has(hash));
  const pipeline = ctx.redis.pipeline();
  if (stale.length) pipeline.hdel(ctx.keys.apiKeys, ...stale);
  for (const [hash, record] of wanted) if (present[hash] !== record) pipeline.hset(ctx.keys.apiKeys, hash, record);
  await pipeline.exec();
}

