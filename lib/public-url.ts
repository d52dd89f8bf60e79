import type { Config } from "./config";

/**
 * Absolute URLs of the web process as owners and visitors reach it: `PUBLIC_URL` joined with a path.
 * Links that leave the page (canonical and share links, and later the embed's script URL, sign-in
 * redirects and admin links) come from here, never from the request's Host header, which a client
 * chooses (ARCHITECTURE.md, "Configuration").
 */
export function publicUrl(config: Pick<Config, "PUBLIC_URL">, path: string): string {
  return `${config.PUBLIC_URL}${path.startsWith("/") ? path : `/${path}`}`;
}

export function launchPageUrl(config: Pick<Config, "PUBLIC_URL">, app: string): string {
  return publicUrl(config, `/try/${encodeURIComponent(app)}`);
}

/**
 * Whether `PUBLIC_URL` points at the bundled proxy (its port is PROXY_PORT): then the proxy forwards
 * requests for PUBLIC_URL's host to the web; otherwise it serves instance hosts only.
 */
export function publicHostOnProxy(config: Pick<Config, "PUBLIC_URL" | "PROXY_PORT">): string | null {
  const url = new URL(config.PUBLIC_URL);
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  return port === config.PROXY_PORT ? url.hostname : null;
}

/**
 * The proxy's port the containers call for the API (TRYIT_API_URL) and the egress policy opens to
 * them: PROXY_PORT, or with TLS the plain-HTTP port (a container has no name the certificate covers).
 */
export function containerApiPort(config: Pick<Config, "PROXY_PORT" | "PROXY_HTTP_PORT" | "PROXY_TLS_CERT">): number {
  return config.PROXY_TLS_CERT && config.PROXY_HTTP_PORT ? config.PROXY_HTTP_PORT : config.PROXY_PORT;
}
