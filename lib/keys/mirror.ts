import { z } from "zod";
import type { Ctx } from "../context";
import type { ApiKeyRow } from "../db/schema";
import { execPipeline } from "../store/pipeline";
import { recordOf } from "./model";

/**
 * The field of the key mirror (beside the keys, by hash) that says a worker loaded it from MariaDB,
 * and how many active keys it found: an empty mirror without it is an unknown, not "no keys"
 * (ARCHITECTURE.md, "Edge"). Key hashes are 64 hex digits, so no key can take this name.
 */
export const MIRROR_MARKER = "loaded";
export const MirrorMarker = z.object({ count: z.number().int().min(0), at_ms: z.number() });
export type MirrorMarker = z.infer<typeof MirrorMarker>;

/** How long a key's creation or revocation through the web is remembered for the worker's sync. */
const CHANGE_MEMORY_MS = 5 * 60_000;
/** Changes this long before a sync read MariaDB are protected too (clocks of several hosts). */
const CLOCK_MARGIN_MS = 1000;

/**
 * Active keys by hash in one Redis hash, so the web process never reads MariaDB to authenticate.
 * The web writes a key made or revoked at once, and notes the change (`apiKeyChanges`), so a
 * worker's sync that read MariaDB just before it neither removes the new key nor brings the
 * revoked one back.
 */
export async function mirrorKey(ctx: Ctx, row: ApiKeyRow): Promise<void> {
  await ctx.redis
    .pipeline()
    .hset(ctx.keys.apiKeys, row.hash, JSON.stringify(recordOf(row)))
    .zadd(ctx.keys.apiKeyChanges, ctx.clock.now(), `created:${row.hash}`)
    .exec();
}

export async function unmirrorKey(ctx: Ctx, hash: string): Promise<void> {
  await ctx.redis.pipeline().hdel(ctx.keys.apiKeys, hash).zadd(ctx.keys.apiKeyChanges, ctx.clock.now(), `revoked:${hash}`).exec();
}

/**
 * Level-triggered: the mirror becomes exactly the active keys of the database (read at
 * `readAtMs`), and its marker records that it was loaded and with how many keys — except for keys
 * the web made or revoked since that read, which the read could not see yet.
 */
export async function syncKeyMirror(ctx: Ctx, active: ApiKeyRow[], readAtMs: number): Promise<void> {
  const wanted = new Map(active.map((row) => [row.hash, JSON.stringify(recordOf(row))]));
  const [present, changes] = (await execPipeline(
    ctx.redis
      .pipeline()
      .hgetall(ctx.keys.apiKeys)
      .zrangebyscore(ctx.keys.apiKeyChanges, readAtMs - CLOCK_MARGIN_MS, "+inf"),
  )) as [Record<string, string>, string[]];
  const recent = new Set(changes);
  const stale = Object.keys(present).filter(
    (hash) => hash !== MIRROR_MARKER && !wanted.has(hash) && !recent.has(`created:${hash}`),
  );
  const pipeline = ctx.redis.pipeline();
  if (stale.length) pipeline.hdel(ctx.keys.apiKeys, ...stale);
  for (const [hash, record] of wanted)
    if (present[hash] !== record && !recent.has(`revoked:${hash}`)) pipeline.hset(ctx.keys.apiKeys, hash, record);
  pipeline.zremrangebyscore(ctx.keys.apiKeyChanges, "-inf", ctx.clock.now() - CHANGE_MEMORY_MS);
  const marker: MirrorMarker = { count: wanted.size, at_ms: ctx.clock.now() };
  pipeline.hset(ctx.keys.apiKeys, MIRROR_MARKER, JSON.stringify(marker));
  await pipeline.exec();
}
