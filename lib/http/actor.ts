/**
 * Who is calling (ARCHITECTURE.md, "Authorization"): the route table's rule for a route turned into
 * an actor — a key, a dashboard session, a launch-page visitor with its instance token, an
 * instance's own container with its conversion token — or the refusal.
 */
import type { AuditActor } from "../audit/model";
import type { Ctx } from "../context";
import { AppError } from "../errors";
import { type Actor, authenticate, hasScope, LAUNCH_ACTOR, presentsKey } from "../keys/authenticate";
import { verifyConversionToken, verifyInstanceToken } from "../keys/instance-token";
import type { Scope } from "../keys/model";
import { type Client, requestClient } from "./client-ip";
import type { RequestView } from "./request";
import type { RouteAuth } from "./routes";

/** The instance token a browser holds: the header, or `?token=` where a header cannot be set (EventSource). */
function instanceTokenOf(request: RequestView, url: URL): string | null {
  return request.headers.get("x-instance-token") ?? url.searchParams.get("token");
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
export async function sessionActor(ctx: Ctx, request: RequestView, role: "viewer" | "admin"): Promise<Actor> {
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

export function auditActorOf(actor: Actor): AuditActor {
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

export async function authorize(
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
      if (!(await verifyInstanceToken(ctx, params.id ?? "", instanceTokenOf(request, url))))
        throw new AppError("NOT_FOUND", "instance not found");
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
  const token = instanceTokenOf(request, url);
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
