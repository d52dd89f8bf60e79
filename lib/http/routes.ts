import type { Scope } from "../keys/model";

/**
 * Who may call a route. "public": anyone. `scope`: a secret key holding it; `publishable` also
 * opens the route to publishable keys — "acquire" (from their allowed origins) or "instance" (with
 * the instance's token); `conversion` opens it to the instance's own container, with its conversion
 * token (`X-Conversion-Token`). `session`: a signed-in dashboard user with that role ("viewer": any
 * user; "admin": admins only); never an API key.
 */
export type RouteAuth =
  | "public"
  | { scope: Scope; publishable?: "acquire" | "instance"; conversion?: true }
  | { session: "viewer" | "admin" };

/**
 * How a route finds what it touches, and so where a key's `apps` apply (ARCHITECTURE.md,
 * "Authorization"). Another app's resource answers exactly as one that does not exist.
 * - `app`: the app in the path (`:slug`), through `loadAppRow`.
 * - `app-in-body`: the app the body names (creating an app or a key, acquire, beacons).
 * - `app-in-query`: `?app=`; without it, the caller's apps.
 * - `apps`: a list or totals over the caller's apps.
 * - `instance`: the instance in the path (`:id`), through `locate` (its app).
 * - `key`: the key in the path (`:id`), within the caller's apps.
 * - `dead-letter`: the dead letter in the path (`:id`), by its job's app.
 * - `block`: a block-list entry in the path (`:id`), by its app (a global one: keys of every app only).
 * - `every-app`: covers every app at once: its scope is one a restricted key cannot hold.
 * - `user`: a dashboard user (`:id`), not bound to an app.
 * - `none`: nothing bound to an app.
 */
export type RouteResource =
  | "app"
  | "app-in-body"
  | "app-in-query"
  | "apps"
  | "instance"
  | "key"
  | "dead-letter"
  | "block"
  | "every-app"
  | "user"
  | "none";

export type RouteMethod = "GET" | "POST" | "PATCH" | "DELETE";

export interface RouteEntry {
  method: RouteMethod;
  /** Path with `:param` segments, as Next.js's `[param]` folders name them. */
  path: string;
  auth: RouteAuth;
  resource: RouteResource;
}

/**
 * Every route of the API and the dashboard's API, by the name logs and metrics use. `withRoute`
 * takes a route's auth from here, so what this table says is what the route checks; the security
 * test (`tests/routes.test.ts`) walks every entry and fails on a route that has none.
 */
export const ROUTES = {
  health: { method: "GET", path: "/health", auth: "public", resource: "none" },
  metrics: { method: "GET", path: "/metrics", auth: { scope: "metrics" }, resource: "every-app" },

  "demo.acquire": {
    method: "POST",
    path: "/api/v1/demo/acquire",
    auth: { scope: "demo", publishable: "acquire" },
    resource: "app-in-body",
  },
  "demo.challenge": {
    method: "POST",
    path: "/api/v1/demo/challenge",
    auth: { scope: "demo", publishable: "acquire" },
    resource: "app-in-body",
  },
  "demo.get": { method: "GET", path: "/api/v1/demo/:id", auth: { scope: "demo", publishable: "instance" }, resource: "instance" },
  "demo.release": {
    method: "DELETE",
    path: "/api/v1/demo/:id",
    auth: { scope: "demo", publishable: "instance" },
    resource: "instance",
  },
  "demo.extend": {
    method: "POST",
    path: "/api/v1/demo/:id/extend",
    auth: { scope: "demo", publishable: "instance" },
    resource: "instance",
  },
  "demo.status": {
    method: "GET",
    path: "/api/v1/demo/:id/status",
    auth: { scope: "demo", publishable: "instance" },
    resource: "instance",
  },
  "demo.convert": {
    method: "POST",
    path: "/api/v1/demo/:id/convert",
    auth: { scope: "events:write", conversion: true },
    resource: "instance",
  },
  "events.beacon": {
    method: "POST",
    path: "/api/v1/events",
    auth: { scope: "demo", publishable: "acquire" },
    resource: "app-in-body",
  },
  "pool.stats": { method: "GET", path: "/api/v1/pool/stats", auth: { scope: "demo" }, resource: "apps" },

  "apps.list": { method: "GET", path: "/api/v1/apps", auth: { scope: "apps:read" }, resource: "apps" },
  "apps.create": { method: "POST", path: "/api/v1/apps", auth: { scope: "apps:write" }, resource: "app-in-body" },
  "apps.get": { method: "GET", path: "/api/v1/apps/:slug", auth: { scope: "apps:read" }, resource: "app" },
  "apps.update": { method: "PATCH", path: "/api/v1/apps/:slug", auth: { scope: "apps:write" }, resource: "app" },
  "apps.delete": { method: "DELETE", path: "/api/v1/apps/:slug", auth: { scope: "apps:write" }, resource: "app" },
  "apps.seed": { method: "POST", path: "/api/v1/apps/:slug/seed", auth: { scope: "apps:write" }, resource: "app" },

  "keys.list": { method: "GET", path: "/api/v1/keys", auth: { scope: "keys:write" }, resource: "apps" },
  "keys.create": { method: "POST", path: "/api/v1/keys", auth: { scope: "keys:write" }, resource: "app-in-body" },
  "keys.revoke": { method: "DELETE", path: "/api/v1/keys/:id", auth: { scope: "keys:write" }, resource: "key" },

  "jobs.dead.list": { method: "GET", path: "/api/v1/jobs/dead", auth: { scope: "metrics" }, resource: "every-app" },
  "jobs.dead.retry": {
    method: "POST",
    path: "/api/v1/jobs/dead/:id/retry",
    auth: { scope: "jobs:write" },
    resource: "dead-letter",
  },

  "analytics.funnel": {
    method: "GET",
    path: "/api/v1/analytics/funnel",
    auth: { scope: "analytics:read" },
    resource: "app-in-query",
  },

  "blocks.list": { method: "GET", path: "/api/v1/blocks", auth: { scope: "abuse:read" }, resource: "apps" },
  "blocks.create": { method: "POST", path: "/api/v1/blocks", auth: { scope: "abuse:write" }, resource: "app-in-body" },
  "blocks.delete": { method: "DELETE", path: "/api/v1/blocks/:id", auth: { scope: "abuse:write" }, resource: "block" },
  "abuse.trail": { method: "GET", path: "/api/v1/abuse/trail", auth: { scope: "abuse:read" }, resource: "app-in-query" },

  // The dashboard's own API: dashboard users are not bound to apps, their role is the check.
  "admin.overview": { method: "GET", path: "/admin/api/overview", auth: { session: "viewer" }, resource: "apps" },
  "admin.analytics": { method: "GET", path: "/admin/api/analytics", auth: { session: "viewer" }, resource: "app-in-query" },
  "admin.analytics.export": {
    method: "GET",
    path: "/admin/api/analytics/export",
    auth: { session: "viewer" },
    resource: "app-in-query",
  },
  "admin.apps.create": { method: "POST", path: "/admin/api/apps", auth: { session: "admin" }, resource: "app-in-body" },
  "admin.apps.update": { method: "PATCH", path: "/admin/api/apps/:slug", auth: { session: "admin" }, resource: "app" },
  "admin.apps.delete": { method: "DELETE", path: "/admin/api/apps/:slug", auth: { session: "admin" }, resource: "app" },
  "admin.apps.seed": { method: "POST", path: "/admin/api/apps/:slug/seed", auth: { session: "admin" }, resource: "app" },
  "admin.instances.list": {
    method: "GET",
    path: "/admin/api/apps/:slug/instances",
    auth: { session: "viewer" },
    resource: "app",
  },
  "admin.instances.extend": {
    method: "POST",
    path: "/admin/api/instances/:id/extend",
    auth: { session: "admin" },
    resource: "instance",
  },
  "admin.instances.terminate": {
    method: "DELETE",
    path: "/admin/api/instances/:id",
    auth: { session: "admin" },
    resource: "instance",
  },
  "admin.jobs.retry": {
    method: "POST",
    path: "/admin/api/jobs/dead/:id/retry",
    auth: { session: "admin" },
    resource: "dead-letter",
  },
  "admin.keys.create": { method: "POST", path: "/admin/api/keys", auth: { session: "admin" }, resource: "app-in-body" },
  "admin.keys.revoke": { method: "DELETE", path: "/admin/api/keys/:id", auth: { session: "admin" }, resource: "key" },
  "admin.blocks.list": { method: "GET", path: "/admin/api/blocks", auth: { session: "viewer" }, resource: "apps" },
  "admin.blocks.create": { method: "POST", path: "/admin/api/blocks", auth: { session: "admin" }, resource: "app-in-body" },
  "admin.blocks.delete": { method: "DELETE", path: "/admin/api/blocks/:id", auth: { session: "admin" }, resource: "block" },
  "admin.trail": { method: "GET", path: "/admin/api/trail", auth: { session: "admin" }, resource: "app-in-query" },
  "admin.users.create": { method: "POST", path: "/admin/api/users", auth: { session: "admin" }, resource: "user" },
  "admin.users.update": { method: "PATCH", path: "/admin/api/users/:id", auth: { session: "admin" }, resource: "user" },
} as const satisfies Record<string, RouteEntry>;

export type RouteName = keyof typeof ROUTES;

/**
 * Handlers that are not routes of their own: the CORS preflight, the 405 of a method a route does
 * not serve, and the envelope 404 of an unknown API path. Public; they touch nothing.
 */
export const FALLBACKS = ["cors.preflight", "method.not_allowed", "api.unknown"] as const;
export type FallbackName = (typeof FALLBACKS)[number];

/** `"POST /api/v1/demo/acquire"`: how the hot path (server.ts) names a route it serves itself. */
export function routeKey(name: RouteName): string {
  const entry: RouteEntry = ROUTES[name];
  return `${entry.method} ${entry.path}`;
}
