import { withRoute } from "@/lib/http/route";
import { mergedMetrics } from "@/lib/metrics-merge";

export const dynamic = "force-dynamic";

export const GET = withRoute({ name: "metrics", auth: "key" }, async ({ ctx }) => {
  const { contentType, body } = await mergedMetrics(ctx);
  return new Response(body, { headers: { "Content-Type": contentType, "Cache-Control": "no-store" } });
});
