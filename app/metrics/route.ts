import { methodNotAllowed, withRoute } from "@/lib/http/route";
import { mergedMetrics } from "@/lib/metrics-merge";

export const dynamic = "force-dynamic";

export const GET = withRoute({ route: "metrics" }, async ({ ctx }) => {
  const { contentType, body } = await mergedMetrics(ctx);
  return new Response(body, { headers: { "Content-Type": contentType, "Cache-Control": "no-store" } });
});

export { methodNotAllowed as DELETE, methodNotAllowed as PATCH, methodNotAllowed as POST, methodNotAllowed as PUT };
