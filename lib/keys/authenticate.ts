import { createHash, timingSafeEqual } from "node:crypto";
import type { Ctx } from "../context";
import { AppError } from "../errors";
import { parseJson } from "../store/messages";
import { KeyRecord, type Scope } from "./model";
import { hashKey, KEY_PREFIX } from "./secret";
import { noteKeyUse } from "./usage";

/**
 * Who is calling: the environment's API_KEY, a key made through the API, anyone (no keys
 * configured), a dashboard user (admin routes only, never /api/v1), or a visitor of our own launch
 * page (no key: from PUBLIC_URL for apps whose launch page is on, or holding an instance's token).
 */
export interface Actor {
  kind: "open" | "env" | "secret" | "publishable" | "user" | "launch";
  keyId: string | null;
  /** How the audit log names it: a key's prefix, `API_KEY`, a user's email. */
  label: string;
  scopes: ReadonlySet<string> | "all";
  /** Apps the key may use; null for all. */
  apps: string[] | null;
  origins: string[];
}

interface Snapshot {
  loadedAtMs: number;
  byHash: Map<string, KeyRecord>;
  origins: Set<string>;
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
    if (this.snapshot && Date.now() - this.snapshot.loadedAtMs < ctx.config.KEY_CACHE_TTL) return this.snapshot;
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
    for (const [hash, json] of Object.entries(raw)) {
      const record = parseJson(KeyRecord, json);
      if (!record) continue; // the worker's next sync rewrites it
      byHash.set(hash, record);
      for (const origin of record.origins) origins.add(origin);
    }
    const snapshot = { loadedAtMs: Date.now(), byHash, origins };
    // A load that began before an invalidation may hold stale keys: use it once, do not keep it.
    if (generation === this.generation) this.snapshot = snapshot;
    return snapshot;
  }
}

const holder = globalThis as unknown as { __tinKeyCache?: KeyCache };
const cache = () => (holder.__tinKeyCache ??= new KeyCache());

/** Anyone, while no key is configured. */
export const OPEN_ACTOR: Actor = { kind: "open", keyId: null, label: "open API (no key configured)", scopes: "all", apps: null, origins: [] };

const digest = (value: string) => createHash("sha256").update(value).digest();
const UNAUTHORIZED = () => new AppError("UNAUTHORIZED", "a valid API key is required (X-API-Key or Authorization: Bearer)");

/**
 * Resolves the caller. Every failure — missing, wrong, truncated, revoked — is the same 401.
 * A publishable key may also come as `?key=` (EventSource cannot send headers); a secret key never.
 */
export async function authenticate(ctx: Ctx, request: { headers: { get(name: string): string | null } }, url: URL): Promise<Actor> {
  const snapshot = await cache().get(ctx);
  const configured = Boolean(ctx.config.API_KEY) || snapshot.byHash.size > 0;
  if (!configured) return OPEN_ACTOR;
  const bearer = request.headers.get("authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1];
  const fromQuery = url.searchParams.get("key");
  const presented =
    request.headers.get("x-api-key") ?? bearer ?? (fromQuery?.startsWith(KEY_PREFIX.publishable) ? fromQuery : null);
  if (!presented) throw UNAUTHORIZED();
  if (ctx.config.API_KEY && timingSafeEqual(digest(presented), digest(ctx.config.API_KEY))) {
    return { kind: "env", keyId: null, label: "API_KEY", scopes: "all", apps: null, origins: [] };
  }
  const hash = hashKey(presented);
  const record = snapshot.byHash.get(hash);
  if (!record) throw UNAUTHORIZED();
  noteKeyUse(ctx, record.id);
  return {
    kind: record.kind,
    keyId: record.id,
    label: record.prefix ?? record.id,
    scopes: new Set(record.scopes),
    apps: record.apps,
    origins: record.origins,
  };
}

/** Whether the request carries any key at all (a wrong one is a 401, never a keyless visitor). */
export function presentsKey(request: { headers: { get(name: string): string | null } }, url: URL): boolean {
  return Boolean(request.headers.get("x-api-key") || request.headers.get("authorization") || url.searchParams.get("key"));
}

/** A visitor of our own launch page, who holds no key. */
export const LAUNCH_ACTOR: Actor = { kind: "launch", keyId: null, label: "launch page", scopes: new Set(), apps: null, origins: [] };

export function invalidateKeyCache(): void {
  cache().invalidate();
}

/** Origins any active publishable key allows: they get CORS headers, on errors too. */
export async function corsOrigins(ctx: Ctx): Promise<Set<string>> {
  return (await cache().get(ctx)).origins;
}

export function hasScope(actor: Actor, scope: Scope): boolean {
  return actor.scopes === "all" || actor.scopes.has(scope);
}

/** Whether the actor may touch an app; instances of other apps are simply not found. */
export function mayUseApp(actor: Actor, app: string): boolean {
  return actor.apps === null || actor.apps.includes(app);
}
