import { funnelForKey } from "@/lib/events/funnel";
import { json, methodNotAllowed, withRoute } from "@/lib/http/route";

export const dynamic = "force-dynamic";

/** `GET /api/v1/analytics/funnel?app=&from=&to=` (ARCHITECTURE.md, "Funnel analytics"): scope `analytics:read`. */
export const GET = withRoute({ route: "analytics.funnel" }, async ({ ctx, actor, request }) =>
  json(await funnelForKey(ctx, new URL(request.url).searchParams, actor)),
);

export { methodNotAllowed as DELETE, methodNotAllowed as PATCH, methodNotAllowed as POST, methodNotAllowed as PUT };
