import { timingSafeEqual } from "node:crypto";
import type { Ctx } from "../context";
import { AppError } from "../errors";
import type { Client } from "../http/client-ip";
import { parseJson } from "../store/messages";
import { MIRROR_MARKER, MirrorMarker } from "./mirror";
import { KeyRecord, type Scope } from "./model";
import { hashKey, KEY_PREFIX, keyDigest } from "./secret";
import { noteKeyUse } from "./usage";

/**
 * Who is calling: the environment's API_KEY, a key made through the API, anyone (no keys
 * configured), a dashboard user (admin routes only, never /api/v1), or a visitor of our own launch
 * page (no key: from PUBLIC_URL for apps whose launch page is on, or holding an instance's token).
 */
export interface Actor {
  kind: "open" | "env" | "secret" | "publishable" | "user" | "launch" | "instance";
  keyId: string | null;
  /** How the audit log names it: a key's prefix, `API_KEY`, a user's email. */
  label: string;
  scopes: ReadonlySet<string> | "all";
  /** Apps the key may use; null for all. */
  apps: readonly string[] | null;
  origins: string[];
  /** A publishable key's own drain cap per app (demos a minute); absent or null: none. */
  acquireRate?: number | null;
}

interface Snapshot {
  loadedAtMs: number;
  byHash: Map<string, KeyRecord>;
  origins: Set<string>;
  /** What the worker's last key sync wrote: absent when no worker has loaded the mirror (a flushed Redis). */
  marker: MirrorMarker | undefined;
}

/**
 * All active keys, held in memory for KEY_CACHE_TTL and reloaded from the Redis mirror (one HGETALL)
 * when older: authentication costs no round trip in the steady state, and a revocation takes
 * effect within the TTL. Concurrent requests share one reload.
 */
class KeyCache {
  private snapshot?: Snapshot;
  private loading?: Promise<Snapshot>;
  private generation = 0;

  /** Drops the snapshot, so this process sees a key it just made or revoked at once. */
  invalidate(): void {
    this.generation += 1;
    this.snapshot = undefined;
    this.loading = undefined;
  }

  async get(ctx: Ctx): Promise<Snapshot> {
    if (this.snapshot && ctx.clock.now() - this.snapshot.loadedAtMs < ctx.config.KEY_CACHE_TTL) return this.snapshot;
    this.loading ??= this.load(ctx).finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async load(ctx: Ctx): Promise<Snapshot> {
    const generation = this.generation;
    const raw = await ctx.redis.hgetall(ctx.keys.apiKeys);
    const byHash = new Map<string, KeyRecord>();
    const origins = new Set<string>();
    const marker = raw[MIRROR_MARKER] === undefined ? undefined : parseJson(MirrorMarker, raw[MIRROR_MARKER]);
    for (const [hash, json] of Object.entries(raw)) {
      if (hash === MIRROR_MARKER) continue;
      const record = parseJson(KeyRecord, json);
      if (!record) continue; // the worker's next sync rewrites it
      byHash.set(hash, record);
      for (const origin of record.origins) origins.add(origin);
    }
    const snapshot = { loadedAtMs: ctx.clock.now(), byHash, origins, marker };
    // A load that began before an invalidation may hold stale keys: use it once, do not keep it.
    if (generation === this.generation) this.snapshot = snapshot;
    return snapshot;
  }
}

const cache = (ctx: Ctx) => ctx.service("key-cache", () => new KeyCache());

/**
 * A client on this machine while no key exists (API_KEY unset, none made): every scope, so a fresh
 * install works from its own shell and its first key can be made. Never through the proxy, never
 * from another address (ARCHITECTURE.md, "Edge").
 */
export const OPEN_ACTOR: Actor = {
  kind: "open",
  keyId: null,
  label: "open API (no key configured)",
  scopes: "all",
  apps: null,
  origins: [],
};

/** API_KEY's digest, made once per value rather than once per request. */
let envKeyDigest: { key: string; digest: Buffer } | undefined;
function envDigest(key: string): Buffer {
  if (envKeyDigest?.key !== key) envKeyDigest = { key, digest: keyDigest(key) };
  return envKeyDigest.digest;
}
const UNAUTHORIZED = () => new AppError("UNAUTHORIZED", "a valid API key is required (X-API-Key or Authorization: Bearer)");
/** The mirror has not been loaded by a worker: whether a key is valid, or whether any exists, is unknown. */
const NOT_LOADED = () =>
  new AppError("UNAVAILABLE", "the API keys are not loaded yet (a worker loads them within seconds of starting); retry shortly", {
    retryAfterSeconds: 2,
    details: { dependency: "key-mirror" },
  });

/**
 * Resolves the caller. Every failure — missing, wrong, truncated, revoked — is the same 401.
 * A publishable key may also come as `?key=` (EventSource cannot send headers); a secret key never.
 * Without a key, only a local client (`client.local`) gets the open actor, and only while the
 * worker's last key sync found no key and API_KEY is unset; an empty mirror that no worker marked
 * as loaded is never taken for "no keys".
 */
export async function authenticate(
  ctx: Ctx,
  request: { headers: { get(name: string): string | null } },
  url: URL,
  client: Client,
): Promise<Actor> {
  const snapshot = await cache(ctx).get(ctx);
  const bearer = request.headers.get("authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1];
  const fromQuery = url.searchParams.get("key");
  const presented =
    request.headers.get("x-api-key") ?? bearer ?? (fromQuery?.startsWith(KEY_PREFIX.publishable) ? fromQuery : null);
  if (!presented) {
    if (ctx.config.API_KEY || snapshot.byHash.size > 0 || !client.local) throw UNAUTHORIZED();
    if (!snapshot.marker) throw NOT_LOADED();
    if (snapshot.marker.count > 0) throw UNAUTHORIZED();
    return OPEN_ACTOR;
  }
  // One digest of what was presented serves both checks: it is also the key's hash (hashKey).
  const presentedDigest = keyDigest(presented);
  if (ctx.config.API_KEY && timingSafeEqual(presentedDigest, envDigest(ctx.config.API_KEY))) {
    return { kind: "env", keyId: null, label: "API_KEY", scopes: "all", apps: null, origins: [] };
  }
  const hash = presentedDigest.toString("hex");
  const record = snapshot.byHash.get(hash);
  if (!record) throw snapshot.marker ? UNAUTHORIZED() : NOT_LOADED();
  noteKeyUse(ctx, record.id);
  return {
    kind: record.kind,
    keyId: record.id,
    label: record.prefix ?? record.id,
    scopes: new Set(record.scopes),
    apps: record.apps,
    origins: record.origins,
    acquireRate: record.acquireRate ?? null,
  };
}

/**
 * Whether a local client without a key would get the open actor now (the web's start-up warning
 * and `/health` say so): API_KEY unset and the last key sync found no key.
 */
export async function openApiPossible(ctx: Ctx): Promise<boolean> {
  if (ctx.config.API_KEY) return false;
  const snapshot = await cache(ctx).get(ctx);
  return snapshot.byHash.size === 0 && snapshot.marker?.count === 0;
}

/**
 * Whether a publishable key is active and may start `app` (the launch page checks the key in its URL
 * this way: from the in-memory key table, no MariaDB read).
 */
export async function publishableKeyAllows(ctx: Ctx, key: string, app: string): Promise<boolean> {
  if (!key.startsWith(KEY_PREFIX.publishable)) return false;
  const record = (await cache(ctx).get(ctx)).byHash.get(hashKey(key));
  return record?.kind === "publishable" && mayUseApp(record, app);
}

/** Whether the request carries any key at all (a wrong one is a 401, never a keyless visitor). */
export function presentsKey(request: { headers: { get(name: string): string | null } }, url: URL): boolean {
  return Boolean(request.headers.get("x-api-key") || request.headers.get("authorization") || url.searchParams.get("key"));
}

/** A visitor of our own launch page, who holds no key. */
export const LAUNCH_ACTOR: Actor = {
  kind: "launch",
  keyId: null,
  label: "launch page",
  scopes: new Set(),
  apps: null,
  origins: [],
};

export function invalidateKeyCache(ctx: Ctx): void {
  cache(ctx).invalidate();
}

/** Origins any active publishable key allows: they get CORS headers, on errors too. */
export async function corsOrigins(ctx: Ctx): Promise<Set<string>> {
  return (await cache(ctx).get(ctx)).origins;
}

/**
 * Whether the actor holds a scope. `metrics` covers every app, so a key restricted to some apps
 * never holds it, whatever its record says (keys made before the rule).
 */
export function hasScope(actor: { scopes: ReadonlySet<string> | "all"; apps: readonly string[] | null }, scope: Scope): boolean {
  if (scope === "metrics" && actor.apps !== null) return false;
  return actor.scopes === "all" || actor.scopes.has(scope);
}

/** Whether the caller may touch an app; another app's resources are simply not found. */
export function mayUseApp(actor: { apps: readonly string[] | null }, app: string): boolean {
  return actor.apps === null || actor.apps.includes(app);
}
