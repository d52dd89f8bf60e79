import type { Ctx } from "../context";
import { corsOrigins } from "../keys/authenticate";
import type { RequestView } from "./request";

const CORS_EXPOSED = "X-Request-ID, Retry-After, RateLimit, RateLimit-Policy";

/** CORS for exactly the origins of active publishable keys: the origin is echoed, never `*`. */
export async function addCorsHeaders(ctx: Ctx, request: RequestView, response: Response): Promise<void> {
  const origin = request.headers.get("origin")?.toLowerCase();
  if (!origin) return;
  response.headers.append("Vary", "Origin");
  if (!(await corsOrigins(ctx).catch(() => new Set<string>())).has(origin)) return;
  response.headers.set("Access-Control-Allow-Origin", origin);
  response.headers.set("Access-Control-Expose-Headers", CORS_EXPOSED);
}
