import type { Ctx } from "../context";
import { notFound } from "../errors";
import type { Actor } from "../keys/authenticate";
import { decodeCfg, decodeInstance } from "../store/hashes";
import { signInOf } from "../store/scripts";
import { locate } from "./locate";
import { credentialsView, instanceView } from "./view";

const HELD = [
  "state",
  "created_at",
  "assigned_at",
  "expires_at",
  "extensions",
  "max_expires_at",
  "cred_user",
  "cred_pass",
  "cred_path",
] as const;
const SHOWN = ["admin_path", "extend_ms", "max_extensions", "cta_label", "cta_url"] as const;

/** An assigned instance; warming and ready instances are nobody's yet, released and expired ones are gone: 404. */
export async function getInstance(ctx: Ctx, id: string, actor: Actor) {
  const { app, keys } = await locate(ctx, id, actor);
  // Two commands, one round trip (auto-pipelined).
  const [fields, settings] = await Promise.all([ctx.redis.hmget(keys.inst(id), ...HELD), ctx.redis.hmget(keys.cfg, ...SHOWN)]);
  const record = decodeInstance(HELD, fields);
  const cfg = decodeCfg(SHOWN, settings);
  const now = ctx.clock.now();
  if (record.state !== "assigned" || record.expires_at === null || record.expires_at <= now) throw notFound();
  // The sign-in goes to the visitor's own token only (ARCHITECTURE.md, "Demo databases").
  // A visitor's call (publishable key or launch page) got here only with this instance's token.
  const visitor = actor.kind === "publishable" || actor.kind === "launch";
  const signIn = visitor ? signInOf(record.cred_user, record.cred_pass, record.cred_path) : null;
  const view = instanceView(
    ctx.config,
    {
      id,
      app,
      createdAtMs: record.created_at ?? 0,
      assignedAtMs: record.assigned_at ?? 0,
      expiresAtMs: record.expires_at,
      adminPath: cfg.admin_path ?? "/",
      extensions: record.extensions ?? 0,
      // Instances assigned before lifetimes existed have none recorded: their lifetime is their expiry.
      maxExpiresAtMs: record.max_expires_at ?? record.expires_at,
      extendMs: cfg.extend_ms ?? 0,
      maxExtensions: cfg.max_extensions ?? ctx.config.POOL_MAX_EXTENSIONS,
      ctaLabel: cfg.cta_label ?? "",
      ctaUrl: cfg.cta_url ?? "",
    },
    now,
  );
  return signIn ? { ...view, credentials: credentialsView(ctx.config, id, signIn) } : view;
}
