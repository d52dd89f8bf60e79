import { and, eq, gt, isNull, lt, or } from "drizzle-orm";
import { z } from "zod";
import { loadAppRow } from "../apps/load";
import { Slug } from "../apps/model";
import type { Caller } from "../audit/model";
import { recordAudit } from "../audit/record";
import type { Ctx } from "../context";
import { type BlockRow, blocks } from "../db/schema";
import { AppError, notFound } from "../errors";
import { newRecordId } from "../ids";
import { mayUseApp } from "../keys/authenticate";
import { parseBlock } from "../net/address";

/** How long a block may last; each has an expiry (ARCHITECTURE.md, "Drain protection"). */
export const BLOCK_DURATIONS = {
  "1h": 3_600_000,
  "24h": 86_400_000,
  "7d": 7 * 86_400_000,
  "30d": 30 * 86_400_000,
  "365d": 365 * 86_400_000,
};
export type BlockDuration = keyof typeof BLOCK_DURATIONS;

export const BlockInput = z
  .object({
    /** An address or a CIDR: IPv4 /8 to /32, IPv6 /16 to /128. */
    cidr: z
      .string()
      .max(64)
      .refine(
        (value) => parseBlock(value) !== null,
        "an address or a CIDR, e.g. 203.0.113.7 or 203.0.113.0/24 (IPv4 /8 to /32, IPv6 /16 to /128)",
      ),
    /** One app, or every app when null or absent. */
    app: Slug.nullable().optional(),
    reason: z.string().max(500).optional(),
    expires_in: z.enum(Object.keys(BLOCK_DURATIONS) as [BlockDuration, ...BlockDuration[]]).default("7d"),
  })
  .strict();
export type BlockInput = z.infer<typeof BlockInput>;

export function blockView(row: BlockRow) {
  return {
    id: row.id,
    cidr: row.cidr,
    app: row.app,
    reason: row.reason,
    created_by: row.createdBy,
    created_at: row.createdAt.toISOString(),
    expires_at: row.expiresAt.toISOString(),
  };
}

/** Blocks still in force that the caller may see: its apps' and, for a key of every app, the global ones. */
export async function listBlocks(ctx: Ctx, caller: Pick<Caller, "apps">) {
  const rows = await ctx.db.select().from(blocks).where(gt(blocks.expiresAt, new Date())).orderBy(blocks.createdAt);
  return rows.filter((row) => (row.app === null ? caller.apps === null : mayUseApp(caller, row.app))).map(blockView);
}

/** Blocks an address or a CIDR now (mirrored before it returns), audited. */
export async function createBlock(ctx: Ctx, input: BlockInput, caller: Caller) {
  const app = input.app ?? null;
  if (app) await loadAppRow(ctx, caller, app);
  else if (caller.apps !== null)
    throw new AppError("FORBIDDEN", "a key restricted to some apps blocks for its apps only: name the app");
  const row: BlockRow = {
    id: newRecordId("block"),
    cidr: parseBlock(input.cidr)!,
    app,
    reason: input.reason ?? "",
    createdBy: caller.actor.label.slice(0, 254),
    createdAt: new Date(),
    expiresAt: new Date(ctx.clock.now() + BLOCK_DURATIONS[input.expires_in]),
  };
  await ctx.db.insert(blocks).values(row);
  await syncBlockMirror(ctx, app ? [app] : await allApps(ctx));
  const view = blockView(row);
  await recordAudit(ctx, caller, { action: "block.create", targetKind: "block", target: row.id, summary: { after: view } });
  return view;
}

/** Lifts a block at once, audited; another app's block is a plain 404. */
export async function removeBlock(ctx: Ctx, id: string, caller: Caller) {
  const [row] = await ctx.db.select().from(blocks).where(eq(blocks.id, id)).limit(1);
  if (!row || (row.app === null ? caller.apps !== null : !mayUseApp(caller, row.app))) throw notFound("block");
  await ctx.db.delete(blocks).where(eq(blocks.id, id));
  await syncBlockMirror(ctx, row.app ? [row.app] : await allApps(ctx));
  await recordAudit(ctx, caller, {
    action: "block.delete",
    targetKind: "block",
    target: id,
    summary: { before: blockView(row) },
  });
  return { id, status: "removed" as const };
}

/** A deleted app's own blocks go with it (a new app of the same name starts with a clean list). */
export async function removeAppBlocks(ctx: Ctx, app: string): Promise<void> {
  await ctx.db.delete(blocks).where(eq(blocks.app, app));
  await ctx.redis.del(ctx.keys.app(app).blocks);
}

async function allApps(ctx: Ctx): Promise<string[]> {
  return ctx.redis.smembers(ctx.keys.apps);
}

/**
 * Level-triggered: each named app's `blocks` hash in Redis becomes exactly the blocks in force for
 * it (its own and the global ones), CIDR → the latest expiry. The worker runs it with every app
 * sync, so the mirror heals itself and expired blocks leave it.
 */
export async function syncBlockMirror(ctx: Ctx, apps: readonly string[]): Promise<void> {
  if (!apps.length) return;
  const now = new Date();
  const rows = await ctx.db
    .select()
    .from(blocks)
    .where(and(gt(blocks.expiresAt, now), or(isNull(blocks.app), ...apps.map((app) => eq(blocks.app, app)))));
  const pipeline = ctx.redis.multi();
  for (const app of apps) {
    const fields = new Map<string, number>();
    for (const row of rows) {
      if (row.app !== null && row.app !== app) continue;
      fields.set(row.cidr, Math.max(fields.get(row.cidr) ?? 0, row.expiresAt.getTime()));
    }
    const key = ctx.keys.app(app).blocks;
    pipeline.del(key);
    if (fields.size) pipeline.hset(key, Object.fromEntries(fields));
  }
  await pipeline.exec();
}

/** Retention: blocks that ended more than 30 days ago leave the table (the audit log keeps their story). */
export async function purgeEndedBlocks(ctx: Ctx): Promise<number> {
  const [result] = await ctx.db.delete(blocks).where(lt(blocks.expiresAt, new Date(ctx.clock.now() - 30 * 86_400_000)));
  return (result as { affectedRows?: number }).affectedRows ?? 0;
}
