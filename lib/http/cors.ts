import type { Ctx } from "../context";
import { corsOrigins } from "../keys/authenticate";
import type { Reply } from "./reply";
import type { RequestView } from "./request";

const CORS_EXPOSED = "X-Request-ID, Retry-After, RateLimit, RateLimit-Policy";

/** CORS for exactly the origins of active publishable keys: the origin is echoed, never `*`. */
export async function addCorsHeaders(ctx: Ctx, request: RequestView, response: Reply): Promise<void> {
  const origin = request.headers.get("origin")?.toLowerCase();
  if (!origin) return;
  response.appendHeader("Vary", "Origin");
  if (!(await corsOrigins(ctx).catch(() => new Set<string>())).has(origin)) return;
  response.setHeader("Access-Control-Allow-Origin", origin);
  response.setHeader("Access-Control-Expose-Headers", CORS_EXPOSED);
}
