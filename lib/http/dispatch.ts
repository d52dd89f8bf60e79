import type { RouteHandler } from "./node-adapter";

/** A route file's exports: its handlers by method (`GET`, `POST`, …), as Next.js reads them. */
export type RouteModule = Record<string, unknown>;

/** A route file and the path it serves, with `:param` segments for its `[param]` folders. */
export interface RouteFile {
  path: string;
  module: RouteModule;
}

export interface Dispatched {
  handler: RouteHandler;
  params: Record<string, string>;
}

interface Pattern {
  segments: string[];
  module: RouteModule;
}

/** Methods the fast path serves; HEAD stays with Next.js, which answers it from GET. */
const METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/**
 * A path the fast path serves only when Next.js would serve it as written: no empty, `.` or `..`
 * segment, no trailing slash (Next.js redirects those), no encoded slash or backslash. Anything
 * else goes to Next.js, so every odd path keeps the answer it had.
 */
const UNCLEAN = /\/\/|\/\.\.?(\/|$)|\/$|%2f|%5c|\\/i;

/**
 * Method + path → the route file's handler (ARCHITECTURE.md, "HTTP API"). Static paths first, then
 * patterns with more static segments before fewer (`/api/v1/demo/acquire` before
 * `/api/v1/demo/:id`). Params are percent-decoded, as Next.js decodes them. `null`: Next.js
 * serves the request (a page, the dashboard, HEAD, a method the file does not export, a path
 * that is not clean); `catchAll` answers the other clean paths under its prefix.
 */
export class Dispatcher {
  private readonly exact = new Map<string, RouteModule>();
  private readonly patterns: Pattern[] = [];

  constructor(
    files: RouteFile[],
    private readonly catchAll: { prefix: string; module: RouteModule } | null = null,
  ) {
    for (const file of files) {
      if (!file.path.includes("/:")) this.exact.set(file.path, file.module);
      else this.patterns.push({ segments: file.path.split("/"), module: file.module });
    }
    const statics = (pattern: Pattern) => pattern.segments.filter((segment) => !segment.startsWith(":")).length;
    this.patterns.sort((a, b) => statics(b) - statics(a));
  }

  match(method: string, path: string): Dispatched | null {
    if (!METHODS.has(method) || UNCLEAN.test(path)) return null;
    const exact = this.exact.get(path);
    if (exact) return served(exact, method, {});
    const segments = path.split("/");
    for (const pattern of this.patterns) {
      const params = matchSegments(pattern.segments, segments);
      if (params) return params === "malformed" ? null : served(pattern.module, method, params);
    }
    if (this.catchAll && path.startsWith(this.catchAll.prefix)) return served(this.catchAll.module, method, {});
    return null;
  }
}

function served(module: RouteModule, method: string, params: Record<string, string>): Dispatched | null {
  const handler = module[method];
  // A route that streams its body (`rawBody` in withRoute) stays with Next.js.
  if (typeof handler !== "function" || (handler as { streamsBody?: boolean }).streamsBody) return null;
  return { handler: handler as RouteHandler, params };
}

function matchSegments(pattern: string[], segments: string[]): Record<string, string> | "malformed" | null {
  if (pattern.length !== segments.length) return null;
  const params: Record<string, string> = {};
  for (let index = 0; index < pattern.length; index += 1) {
    const want = pattern[index];
    const got = segments[index];
    if (!want.startsWith(":")) {
      if (want !== got) return null;
      continue;
    }
    if (!got) return null;
    try {
      params[want.slice(1)] = decodeURIComponent(got);
    } catch {
      return "malformed";
    }
  }
  return params;
}
