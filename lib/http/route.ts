import { randomUUID } from "node:crypto";
import type { z } from "zod";
import type { AuditActor, Caller } from "../audit/model";
import type { Ctx } from "../context";
import { outageOf } from "../dependency";
import { AppError, ERROR_STATUS, invalidInput } from "../errors";
import { type Actor, authenticate, corsOrigins, hasScope, LAUNCH_ACTOR, presentsKey } from "../keys/authenticate";
import { verifyConversionToken, verifyInstanceToken } from "../keys/instance-token";
import type { Scope } from "../keys/model";
import { metrics } from "../metrics";
import { type Client, requestClient } from "./client-ip";
import { type FallbackName, ROUTES, type RouteAuth, type RouteName } from "./routes";
import { webContext } from "./web-context";

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's `X-Request-ID` when it is sane (length and charset bounded), else a new one. */
export function requestIdOf(incoming: string | null | undefined): string {
  return incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/**
 * The part of a request that route handlers may read. Next.js's `Request` satisfies it, and so does
 * the hot path's light view of Node's request (`node-adapter.ts`): the compiler keeps handlers
 * off everything else, so a route stays servable both ways.
 */
export interface RequestView {
  readonly method: string;
  readonly url: string;
  readonly headers: { get(name: string): string | null };
  /** The body as a stream, or null when it is already buffered (then `text()` has it). */
  readonly body: ReadableStream<Uint8Array> | null;
  text(): Promise<string>;
}

/** What Next.js passes as a route handler's second argument. */
export interface RouteContext {
  params?: Promise<Record<string, string>>;
}

export interface RouteArgs<I> {
  ctx: Ctx;
  actor: Actor;
  /** Who made the request, as the audit log records it. */
  caller: Caller;
  input: I;
  params: Record<string, string>;
  request: RequestView;
  requestId: string;
  clientIp: string;
}

interface RouteOptions<S extends z.ZodType | undefined> {
  /** The route's entry in the table (`routes.ts`): its name in logs and metrics, and who may call it. */
  route: RouteName | FallbackName;
  /** zod schema of the JSON body; absent for routes without one. */
  body?: S;
  /** A tighter body limit than MAX_BODY_BYTES (the embed's beacons). */
  maxBodyBytes?: number;
}

type Handler<I> = (args: RouteArgs<I>) => Promise<Response>;

/**
 * Wraps a route handler: request id, client IP, API key, bounded JSON body parsed with zod, one
 * error envelope `{error, code, details?, request_id}`, one log line per request, metrics.
 */
export function withRoute<
  S extends z.ZodType | undefined = undefined,
  N extends RouteName | FallbackName = RouteName | FallbackName,
>(options: RouteOptions<S> & { route: N }, handler: Handler<S extends z.ZodType ? z.infer<S> : undefined>) {
  const name = options.route;
  const auth: RouteAuth = name in ROUTES ? ROUTES[name as RouteName].auth : "public";
  const serve = async (request: RequestView, context: RouteContext): Promise<Response> => {
    const started = performance.now();
    const ctx = webContext();
    const requestId = requestIdOf(request.headers.get("x-request-id"));
    const client = requestClient(request.headers, ctx.config.TRUSTED_PROXIES);
    const ip = client.ip;
    let response: Response;
    let failure: unknown;
    const url = new URL(request.url);
    try {
      const params = (await context.params) ?? {};
      const actor: Actor =
        auth === "public"
          ? { kind: "open", keyId: null, label: "anonymous", scopes: new Set(), apps: null, origins: [] }
          : "session" in auth
            ? await sessionActor(ctx, request, auth.session)
            : await authorize(ctx, request, url, auth, params, client);
      const input = options.body
        ? await parseBody(request, options.body, options.maxBodyBytes ?? ctx.config.MAX_BODY_BYTES)
        : undefined;
      const caller: Caller = { actor: auditActorOf(actor), requestId, apps: actor.apps, scopes: actor.scopes };
      response = await handler({ ctx, actor, caller, input: input as never, params, request, requestId, clientIp: ip });
    } catch (error) {
      failure = error;
      response = errorResponse(asOutage(error), requestId);
    }
    response.headers.set("X-Request-ID", requestId);
    await addCorsHeaders(ctx, request, response);
    const durationMs = Math.round((performance.now() - started) * 100) / 100;
    metrics.httpRequests.inc({ route: name, method: request.method, status: String(response.status) });
    const line = { requestId, method: request.method, route: name, status: response.status, durationMs, ip };
    if (response.status === 503 && failure && !(failure instanceof AppError))
      ctx.log.warn({ ...line, err: (failure as Error).message }, "request failed: dependency unavailable");
    else if (response.status >= 500)
      ctx.log.error({ ...line, err: failure instanceof Error ? failure.stack : failure }, "request failed");
    else ctx.log.info({ ...line, outcome: failure instanceof AppError ? failure.code : "ok" }, "request");
    return response;
  };
  // The table entry the handler serves, for the route test (tests/routes.test.ts).
  return Object.assign(serve, { route: name });
}

/**
 * Whether the caller of a public route may see more (`/health`'s detail): it holds `scope` by a key
 * or as the open actor. Any failure (no key, a wrong one, the mirror not loaded) is a no.
 */
export async function callerHasScope(ctx: Ctx, request: RequestView, scope: Scope): Promise<boolean> {
  try {
    const actor = await authenticate(
      ctx,
      request,
      new URL(request.url),
      requestClient(request.headers, ctx.config.TRUSTED_PROXIES),
    );
    return actor.kind !== "publishable" && hasScope(actor, scope);
  } catch {
    return false;
  }
}

/**
 * The dashboard user behind a session route. A mutation must come from the dashboard's own origin
 * (PUBLIC_URL): with SameSite=Lax cookies a cross-site form cannot carry the session anyway, and
 * this refuses whatever else could.
 */
async function sessionActor(ctx: Ctx, request: RequestView, role: "viewer" | "admin"): Promise<Actor> {
  if (request.method !== "GET" && request.method !== "HEAD" && request.headers.get("origin") !== ctx.config.PUBLIC_URL) {
    throw new AppError("FORBIDDEN", "cross-site request refused");
  }
  // Loaded on use: the hot path's bundle never needs next-auth.
  const { currentAdmin, mayWrite } = await import("../admin/session");
  const user = await currentAdmin(ctx);
  if (!user) throw new AppError("UNAUTHORIZED", "sign in first");
  if (role === "admin" && !mayWrite(user)) throw new AppError("FORBIDDEN", "your role may only look, not change");
  return { kind: "user", keyId: null, label: user.email, scopes: "all", apps: null, origins: [] };
}

function auditActorOf(actor: Actor): AuditActor {
  switch (actor.kind) {
    case "user":
      return { kind: "user", label: actor.label };
    case "secret":
    case "publishable":
      return { kind: "key", label: actor.label };
    case "launch":
    case "instance":
      return { kind: "open", label: actor.label };
    default:
      return { kind: actor.kind, label: actor.label };
  }
}

async function authorize(
  ctx: Ctx,
  request: RequestView,
  url: URL,
  rule: Exclude<RouteAuth, "public" | { session: unknown }>,
  params: Record<string, string>,
  client: Client,
): Promise<Actor> {
  let actor: Actor;
  try {
    actor = await authenticate(ctx, request, url, client);
  } catch (error) {
    if (presentsKey(request, url)) throw error;
    const visitor = rule.conversion
      ? await containerOf(ctx, request, params)
      : rule.publishable
        ? await launchVisitor(ctx, request, url, rule.publishable, params)
        : null;
    if (!visitor) throw error;
    return visitor;
  }
  if (actor.kind === "publishable") {
    if (!rule.publishable) throw new AppError("FORBIDDEN", "a publishable key may only start and follow demos");
    // Browsers send Origin with every POST; a same-origin GET (the launch page's EventSource) has
    // none, and there the instance token is the proof that counts.
    const origin = request.headers.get("origin")?.toLowerCase();
    const originNeeded = rule.publishable === "acquire";
    if ((origin || originNeeded) && !actor.origins.includes(origin ?? "")) {
      throw new AppError("FORBIDDEN", "this key may not be used from this origin");
    }
    // The browser proves it holds this instance; any other id is indistinguishable from an unknown one.
    if (rule.publishable === "instance") {
      const token = request.headers.get("x-instance-token") ?? url.searchParams.get("token");
      if (!(await verifyInstanceToken(ctx, params.id ?? "", token))) throw new AppError("NOT_FOUND", "instance not found");
    }
    return actor;
  }
  if (!hasScope(actor, rule.scope)) throw new AppError("FORBIDDEN", `this key lacks the scope "${rule.scope}"`);
  return actor;
}

/**
 * A visitor without a key (ARCHITECTURE.md, "Embed and launch page"): acquire from our own origin
 * (PUBLIC_URL: the launch page; the acquire script then starts only apps whose launch page is on),
 * or a call about an instance whose token the visitor holds. Anything else stays a 401.
 */
async function launchVisitor(
  ctx: Ctx,
  request: RequestView,
  url: URL,
  kind: "acquire" | "instance",
  params: Record<string, string>,
): Promise<Actor | null> {
  if (kind === "acquire") return request.headers.get("origin") === ctx.config.PUBLIC_URL ? LAUNCH_ACTOR : null;
  const token = request.headers.get("x-instance-token") ?? url.searchParams.get("token");
  return token && (await verifyInstanceToken(ctx, params.id ?? "", token)) ? LAUNCH_ACTOR : null;
}

/**
 * An instance's own container reporting a conversion with its conversion token (ARCHITECTURE.md,
 * "Funnel analytics"): that instance only — a token of another answers as an unknown instance.
 * No token: null (the caller stays a 401).
 */
async function containerOf(ctx: Ctx, request: RequestView, params: Record<string, string>): Promise<Actor | null> {
  const token = request.headers.get("x-conversion-token");
  if (!token) return null;
  const id = params.id ?? "";
  if (!(await verifyConversionToken(ctx, id, token))) throw new AppError("NOT_FOUND", "instance not found");
  return { kind: "instance", keyId: null, label: `instance ${id}`, scopes: new Set(["events:write"]), apps: null, origins: [] };
}

const CORS_EXPOSED = "X-Request-ID, Retry-After, RateLimit, RateLimit-Policy";

/** CORS for exactly the origins of active publishable keys: the origin is echoed, never `*`. */
async function addCorsHeaders(ctx: Ctx, request: RequestView, response: Response): Promise<void> {
  const origin = request.headers.get("origin")?.toLowerCase();
  if (!origin) return;
  response.headers.append("Vary", "Origin");
  if (!(await corsOrigins(ctx).catch(() => new Set<string>())).has(origin)) return;
  response.headers.set("Access-Control-Allow-Origin", origin);
  response.headers.set("Access-Control-Expose-Headers", CORS_EXPOSED);
}

/** OPTIONS: the preflight a browser sends before a cross-origin call with X-API-Key. */
export const preflight = withRoute({ route: "cors.preflight" }, async ({ ctx, request }) => {
  const origin = request.headers.get("origin")?.toLowerCase();
  if (!origin || !(await corsOrigins(ctx)).has(origin)) throw new AppError("FORBIDDEN", "origin not allowed");
  return new Response(null, {
    status: 204,
    headers: {
      "Access-Control-Allow-Methods": "GET, POST, DELETE, OPTIONS",
      "Access-Control-Allow-Headers": "Content-Type, X-API-Key, X-Instance-Token, X-Request-ID",
      "Access-Control-Max-Age": "600",
    },
  });
});

/** Paths under /api that no route serves. */
export const unknownEndpoint = withRoute({ route: "api.unknown" }, async () => {
  throw new AppError("NOT_FOUND", "no such API endpoint");
});

/** Methods a route does not serve answer 405 in the error envelope. */
export const methodNotAllowed = withRoute({ route: "method.not_allowed" }, async ({ request }) => {
  throw new AppError("METHOD_NOT_ALLOWED", `${request.method} is not allowed here`);
});

async function parseBody<S extends z.ZodType>(request: RequestView, schema: S, maxBytes: number): Promise<z.infer<S>> {
  const text = await readBounded(request, maxBytes);
  let value: unknown = {};
  if (text.trim()) {
    try {
      value = JSON.parse(text);
    } catch {
      // Lenient with clients that forget the header (curl -d) or cannot set it (a beacon sends
      // text/plain), strict about what the body is.
      const type = request.headers.get("content-type") ?? "";
      if (type && !/^(application\/(.+\+)?json|text\/plain)\b/i.test(type)) {
        throw new AppError("UNSUPPORTED_MEDIA_TYPE", "send the body as application/json");
      }
      throw new AppError("INVALID_REQUEST", "the body is not valid JSON");
    }
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new AppError("INVALID_REQUEST", "the body must be a JSON object");
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidInput(parsed.error.issues);
  return parsed.data;
}

async function readBounded(request: RequestView, maxBytes: number): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (declared > maxBytes) throw new AppError("PAYLOAD_TOO_LARGE", `the body may be at most ${maxBytes} bytes`);
  if (!request.body) {
    // No stream: an empty body, or the hot path's already-bounded buffer (see node-adapter.ts).
    const text = await request.text();
    if (Buffer.byteLength(text) > maxBytes) throw new AppError("PAYLOAD_TOO_LARGE", `the body may be at most ${maxBytes} bytes`);
    return text;
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new AppError("PAYLOAD_TOO_LARGE", `the body may be at most ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * An unexpected error that is a dependency's outage becomes 503 `UNAVAILABLE` naming it, with
 * `Retry-After` (ARCHITECTURE.md, "Restarts"); a bug stays a 500.
 */
export function asOutage(error: unknown): unknown {
  if (error instanceof AppError) return error;
  const dependency = outageOf(error);
  if (!dependency) return error;
  return new AppError("UNAVAILABLE", `${dependency} is not reachable right now; retry shortly`, {
    retryAfterSeconds: 5,
    details: { dependency },
  });
}

export function errorResponse(error: unknown, requestId: string): Response {
  const known = error instanceof AppError ? error : undefined;
  const code = known?.code ?? "INTERNAL_ERROR";
  const body = {
    error: known?.message ?? "internal error; quote the request id when reporting it",
    code,
    ...(known?.details === undefined ? {} : { details: known.details }),
    request_id: requestId,
  };
  const headers: Record<string, string> = { ...(known?.headers ?? {}) };
  if (known?.retryAfterSeconds !== undefined) headers["Retry-After"] = String(known.retryAfterSeconds);
  return Response.json(body, { status: ERROR_STATUS[code], headers });
}

export function json(body: unknown, init: { status?: number; headers?: Record<string, string> } = {}): Response {
  return Response.json(body, { status: init.status ?? 200, headers: { "Cache-Control": "no-store", ...init.headers } });
}
