import { AppError } from "@/lib/errors";
import { funnel, parseRange } from "@/lib/events/funnel";
import { json, methodNotAllowed, withRoute } from "@/lib/http/route";
import { mayUseApp } from "@/lib/keys/authenticate";

export const dynamic = "force-dynamic";

/** `GET /api/v1/analytics/funnel?app=&from=&to=` (ARCHITECTURE.md, "Funnel analytics"): scope `analytics:read`. */
export const GET = withRoute({ name: "analytics.funnel", auth: { scope: "analytics:read" } }, async ({ ctx, actor, request }) => {
  const range = parseRange(new URL(request.url).searchParams);
  if (!mayUseApp(actor, range.app)) throw new AppError("FORBIDDEN", `this key may not read "${range.app}"`);
  return json(await funnel(ctx, range));
});

export { methodNotAllowed as DELETE, methodNotAllowed as PATCH, methodNotAllowed as POST, methodNotAllowed as PUT };
