import type { Config } from "../config";

/** `<PUBLIC_SCHEME>://<id>.<BASE_DOMAIN>[:<PROXY_PORT>]`, the port left out when it is the scheme's default. */
export function instanceUrl(config: Config, id: string): string {
  const defaultPort = config.PUBLIC_SCHEME === "https" ? 443 : 80;
  const port = config.PROXY_PORT === defaultPort ? "" : `:${config.PROXY_PORT}`;
  return `${config.PUBLIC_SCHEME}://${id}.${config.BASE_DOMAIN}${port}`;
}

export function adminUrl(config: Config, id: string, adminPath: string): string {
  return `${instanceUrl(config, id)}${adminPath.startsWith("/") ? adminPath : `/${adminPath}`}`;
}

/**
 * A visitor's sign-in as the API answers it: to the visitor's own token only (acquire, and GET with
 * the instance token), never to a listing or another key.
 */
export function credentialsView(config: Config, id: string, signIn: { username: string; password: string; path: string }) {
  return { username: signIn.username, password: signIn.password, login_url: adminUrl(config, id, signIn.path) };
}

const iso = (ms: number) => new Date(ms).toISOString();

export interface AssignedInstance {
  id: string;
  app: string;
  createdAtMs: number;
  assignedAtMs: number;
  expiresAtMs: number;
  adminPath: string;
  extensions: number;
  maxExpiresAtMs: number;
  extendMs: number;
  maxExtensions: number;
  ctaLabel: string;
  ctaUrl: string;
}

/** The JSON of an assigned instance, as GET /api/v1/demo/:id answers it. */
export function instanceView(config: Config, instance: AssignedInstance, nowMs: number) {
  return {
    id: instance.id,
    app: instance.app,
    url: instanceUrl(config, instance.id),
    admin_url: adminUrl(config, instance.id, instance.adminPath),
    state: "assigned" as const,
    created_at: iso(instance.createdAtMs),
    assigned_at: iso(instance.assignedAtMs),
    expires_at: iso(instance.expiresAtMs),
    ttl_remaining_seconds: Math.max(0, Math.floor((instance.expiresAtMs - nowMs) / 1000)),
    extensions: instance.extensions,
    max_extensions: instance.maxExtensions,
    extend_minutes: Math.round(instance.extendMs / 60_000),
    max_expires_at: iso(instance.maxExpiresAtMs),
    cta: instance.ctaLabel && instance.ctaUrl ? { label: instance.ctaLabel, url: instance.ctaUrl } : null,
  };
}
