import { z } from "zod";
import { Slug } from "../apps/model";
import type { ApiKeyRow } from "../db/schema";

export const SCOPES = [
  "demo",
  "apps:read",
  "apps:write",
  "keys:write",
  "metrics",
  "jobs:write",
  "events:write",
  "analytics:read",
  "abuse:read",
  "abuse:write",
] as const;
export const Scope = z.enum(SCOPES);
export type Scope = z.infer<typeof Scope>;

const Origin = z
  .string()
  .max(300)
  .regex(/^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/i, "an origin such as https://shop.example.com (scheme, host, optional port)")
  .transform((origin) => origin.toLowerCase());

export const KeyCreateInput = z
  .object({
    name: z.string().min(1).max(200),
    kind: z.enum(["secret", "publishable"]),
    scopes: z.array(Scope).min(1).max(SCOPES.length).optional(),
    apps: z.array(Slug).min(1).max(100).nullable().optional(),
    allowed_origins: z.array(Origin).max(50).optional(),
    /** A publishable key's own drain cap: demos a minute per app it names (null: none). */
    acquire_rate: z.number().int().min(1).max(100_000).nullable().optional(),
  })
  .strict()
  .superRefine((input, ctx) => {
    if (input.kind === "publishable") {
      if (!input.apps?.length)
        ctx.addIssue({ code: "custom", path: ["apps"], message: "a publishable key names the apps it may start" });
      if (!input.allowed_origins?.length)
        ctx.addIssue({
          code: "custom",
          path: ["allowed_origins"],
          message: "a publishable key names the origins it may be used from",
        });
      if (input.scopes)
        ctx.addIssue({ code: "custom", path: ["scopes"], message: "publishable keys have no scopes: they only start demos" });
    } else if (input.acquire_rate != null) {
      ctx.addIssue({
        code: "custom",
        path: ["acquire_rate"],
        message: "only a publishable key has a cap of its own; cap the app instead",
      });
    }
  });
export type KeyCreateInput = z.infer<typeof KeyCreateInput>;

/** What the hot path knows of a key: mirrored in Redis, cached in memory. */
export const KeyRecord = z.object({
  id: z.string(),
  /** The key's visible start, for the audit log (absent in records mirrored before it existed). */
  prefix: z.string().optional(),
  kind: z.enum(["secret", "publishable"]),
  scopes: z.array(z.string()),
  apps: z.array(z.string()).nullable(),
  origins: z.array(z.string()),
  /** Its own drain cap per app (publishable keys; absent in records mirrored before it existed). */
  acquireRate: z.number().nullable().optional(),
});
export type KeyRecord = z.infer<typeof KeyRecord>;

export function recordOf(row: ApiKeyRow): KeyRecord {
  return {
    id: row.id,
    prefix: row.prefix,
    kind: row.kind,
    scopes: row.scopes,
    apps: row.apps ?? null,
    origins: row.allowedOrigins,
    acquireRate: row.acquireRate ?? null,
  };
}

export function keyView(row: ApiKeyRow) {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    prefix: row.prefix,
    scopes: row.scopes,
    apps: row.apps ?? null,
    allowed_origins: row.allowedOrigins,
    acquire_rate: row.acquireRate ?? null,
    created_at: row.createdAt.toISOString(),
    last_used_at: row.lastUsedAt?.toISOString() ?? null,
    revoked_at: row.revokedAt?.toISOString() ?? null,
  };
}
