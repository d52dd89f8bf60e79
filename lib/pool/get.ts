import type { Ctx } from "../context";
import { notFound } from "../errors";
import type { Actor } from "../keys/authenticate";
import { locate } from "./locate";
import { instanceView } from "./view";

/** An assigned instance; warming and ready instances are nobody's yet, released and expired ones are gone: 404. */
export async function getInstance(ctx: Ctx, id: string, actor: Actor) {
  const { app, keys } = await locate(ctx, id, actor);
  const [fields, adminPath] = await Promise.all([
    ctx.redis.hmget(keys.inst(id), "state", "created_at", "assigned_at", "expires_at"),
    ctx.redis.hget(keys.cfg, "admin_path"),
  ]);
  const [state, createdAt, assignedAt, expiresAt] = fields;
  const now = Date.now();
  if (state !== "assigned" || Number(expiresAt) <= now) throw notFound();
  return instanceView(
    ctx.config,
    {
      id,
      app,
      createdAtMs: Number(createdAt),
      assignedAtMs: Number(assignedAt),
      expiresAtMs: Number(expiresAt),
      adminPath: adminPath ?? "/",
    },
    now,
  );
}
