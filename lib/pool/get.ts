import type { Ctx } from "../context";
import { notFound } from "../errors";
import type { Actor } from "../keys/authenticate";
import { locate } from "./locate";
import { instanceView } from "./view";

/** An assigned instance; warming and ready instances are nobody's yet, released and expired ones are gone: 404. */
export async function getInstance(ctx: Ctx, id: string, actor: Actor) {
  const { app, keys } = await locate(ctx, id, actor);
  // Two commands, one round trip (auto-pipelined).
  const [fields, settings] = await Promise.all([
    ctx.redis.hmget(keys.inst(id), "state", "created_at", "assigned_at", "expires_at", "extensions", "max_expires_at"),
    ctx.redis.hmget(keys.cfg, "admin_path", "extend_ms", "max_extensions", "cta_label", "cta_url"),
  ]);
  const [state, createdAt, assignedAt, expiresAt, extensions, maxExpiresAt] = fields;
  const [adminPath, extendMs, maxExtensions, ctaLabel, ctaUrl] = settings;
  const now = ctx.clock.now();
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
      extensions: Number(extensions ?? 0),
      // Instances assigned before lifetimes existed have none recorded: their lifetime is their expiry.
      maxExpiresAtMs: Number(maxExpiresAt ?? expiresAt),
      extendMs: Number(extendMs ?? 600_000),
      maxExtensions: Number(maxExtensions ?? ctx.config.POOL_MAX_EXTENSIONS),
      ctaLabel: ctaLabel ?? "",
      ctaUrl: ctaUrl ?? "",
    },
    now,
  );
}
