import { randomBytes } from "node:crypto";
import type { Config } from "../config";
import { instanceUrl } from "../pool/view";

/**
 * Headers every response of the web carries, and the Content-Security-Policy of its pages
 * (ARCHITECTURE.md, "Browser protections"). Nothing of ours may be framed by another site
 * (`frame-ancestors 'none'`, and `X-Frame-Options` for browsers without CSP 2); the launch page may
 * frame instance hosts (the widget's modal mode).
 */
export function baseSecurityHeaders(config: Pick<Config, "PUBLIC_URL">): Record<string, string> {
  return {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    ...(config.PUBLIC_URL.startsWith("https:") ? { "Strict-Transport-Security": "max-age=31536000" } : {}),
  };
}

/** A fresh nonce per page response: Next.js puts it on its inline scripts when it finds it in the request's CSP. */
export function newNonce(): string {
  return randomBytes(16).toString("base64");
}

/**
 * Scripts: our own origin and inline scripts carrying this response's nonce (Next.js's bootstrap and
 * flight data). Styles allow inline style attributes: React and the charts set them, and a style
 * cannot run code. Development adds what Next.js's dev overlay needs.
 */
export function pageContentSecurityPolicy(config: Config, nonce: string): string {
  const dev = config.NODE_ENV === "development";
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}'${dev ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self' ${config.PUBLIC_URL}${dev ? " ws: wss:" : ""}`,
    `frame-src ${instanceUrl(config, "*")}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "object-src 'none'",
  ].join("; ");
}
