import type { z } from "zod";
import type { Caller } from "../audit/model";
import type { Ctx } from "../context";
import { AppError } from "../errors";
import { type Actor, corsOrigins } from "../keys/authenticate";
import { metrics } from "../metrics";
import { auditActorOf, authorize, sessionActor } from "./actor";
import { parseBody, readRawBody } from "./body";
import { requestClient } from "./client-ip";
import { addCorsHeaders } from "./cors";
import { asOutage, errorReply } from "./envelope";
import { type Reply, reply } from "./reply";
import { type RequestView, type RouteContext, requestIdOf } from "./request";
import { type FallbackName, ROUTES, type RouteAuth, type RouteName } from "./routes";
import { webContext } from "./web-context";

/** Route handlers answer with these: JSON, never cached; any other body. */
export { json } from "./envelope";
export { reply } from "./reply";

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
  /** The body's bytes, for a route with `rawBody`. */
  raw: Buffer | undefined;
}

interface RouteOptions<S extends z.ZodType | undefined> {
  /** The route's entry in the table (`routes.ts`): its name in logs and metrics, and who may call it. */
  route: RouteName | FallbackName;
  /** zod schema of the JSON body; absent for routes without one. */
  body?: S;
  /** A tighter body limit than MAX_BODY_BYTES (the embed's beacons). */
  maxBodyBytes?: number;
  /**
   * A body that is not JSON, read whole up to this many bytes (a seed upload): the fast path leaves
   * such a route to Next.js, which streams the body instead of buffering it at MAX_BODY_BYTES.
   */
  rawBody?: (config: Ctx["config"]) => number;
}

type Handler<I> = (args: RouteArgs<I>) => Promise<Reply>;

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
  const answer = async (request: RequestView, context: RouteContext): Promise<Reply> => {
    const started = performance.now();
    const ctx = webContext();
    const requestId = requestIdOf(request.headers.get("x-request-id"));
    const client = requestClient(request.headers, ctx.config.TRUSTED_PROXIES);
    const ip = client.ip;
    let response: Reply;
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
      const raw = options.rawBody ? await readRawBody(request, options.rawBody(ctx.config)) : undefined;
      const caller: Caller = { actor: auditActorOf(actor), requestId, apps: actor.apps, scopes: actor.scopes };
      response = await handler({ ctx, actor, caller, input: input as never, params, request, requestId, clientIp: ip, raw });
    } catch (error) {
      failure = error;
      response = errorReply(asOutage(error), requestId);
    }
    response.setHeader("X-Request-ID", requestId);
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
  // Next.js calls the handler and wants a Response; the fast path calls `reply` and writes it itself.
  const serve = async (request: RequestView, context: RouteContext): Promise<Response> =>
    (await answer(request, context)).toResponse();
  // The table entry the handler serves, for the route test (tests/routes.test.ts).
  return Object.assign(serve, { route: name, reply: answer, streamsBody: Boolean(options.rawBody) });
}

/** OPTIONS: the preflight a browser sends before a cross-origin call with X-API-Key. */
export const preflight = withRoute({ route: "cors.preflight" }, async ({ ctx, request }) => {
  const origin = request.headers.get("origin")?.toLowerCase();
  if (!origin || !(await corsOrigins(ctx)).has(origin)) throw new AppError("FORBIDDEN", "origin not allowed");
  return reply(null, {
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
