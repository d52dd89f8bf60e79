import { healthReport, serving } from "@/lib/health";
import { callerHasScope } from "@/lib/http/actor";
import { json, methodNotAllowed, withRoute } from "@/lib/http/route";

export const dynamic = "force-dynamic";

/**
 * The deployment's health (ARCHITECTURE.md, "Supervision"): status and reasons for anyone; the
 * detail (checks, workers and their loops, durability, open_api) for a caller with `metrics`.
 */
export const GET = withRoute({ route: "health" }, async ({ ctx, request }) => {
  const [report, detailed] = await Promise.all([healthReport(ctx), callerHasScope(ctx, request, "metrics")]);
  const body = detailed
    ? { status: report.status, reasons: report.reasons, ...report.detail }
    : { status: report.status, reasons: report.reasons };
  return json(body, { status: serving(report.status) ? 200 : 503, headers: { "Cache-Control": "no-store" } });
});

export { methodNotAllowed as DELETE, methodNotAllowed as PATCH, methodNotAllowed as POST, methodNotAllowed as PUT };
