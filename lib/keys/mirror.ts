import { z } from "zod";
import type { Ctx } from "../context";
import { recordOf } from "./model";
import type { ApiKeyRow } from "../db/schema";

/**
 * The field of the key mirror (beside the keys, by hash) that says a worker loaded it from MariaDB,
 * and how many active keys it found: an empty mirror without it is an unknown, not "no keys"
 * (ARCHITECTURE.md, "Edge"). Key hashes are 64 hex digits, so no key can take this name.
 */
export const MIRROR_MARKER = "loaded";
export const MirrorMarker = z.object({ count: z.number().int().min(0), at_ms: z.number() });
export type MirrorMarker = z.infer<typeof MirrorMarker>;

/** Active keys by hash in one Redis hash, so the web process never reads MariaDB to authenticate. */
export async function mirrorKey(ctx: Ctx, row: ApiKeyRow): Promise<void> {
  await ctx.redis.hset(ctx.keys.apiKeys, row.hash, JSON.stringify(recordOf(row)));
}

export async function unmirrorKey(ctx: Ctx, hash: string): Promise<void> {
  await ctx.redis.hdel(ctx.keys.apiKeys, hash);
}

/**
 * Level-triggered: the mirror becomes exactly the active keys of the database, and its marker
 * records that it was loaded and with how many keys.
 */
export async function syncKeyMirror(ctx: Ctx, active: ApiKeyRow[]): Promise<void> {
  const wanted = new Map(active.map((row) => [row.hash, JSON.stringify(recordOf(row))]));
  const present = await ctx.redis.hgetall(ctx.keys.apiKeys);
  const stale = Object.keys(present).filter((hash) => hash !== MIRROR_MARKER && !wanted.has(hash));
  const pipeline = ctx.redis.pipeline();
  if (stale.length) pipeline.hdel(ctx.keys.apiKeys, ...stale);
  for (const [hash, record] of wanted) if (present[hash] !== record) pipeline.hset(ctx.keys.apiKeys, hash, record);
  const marker: MirrorMarker = { count: wanted.size, at_ms: Date.now() };
  pipeline.hset(ctx.keys.apiKeys, MIRROR_MARKER, JSON.stringify(marker));
  await pipeline.exec();
}

