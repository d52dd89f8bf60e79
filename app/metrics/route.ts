import { methodNotAllowed, reply, withRoute } from "@/lib/http/route";
import { mergedMetrics } from "@/lib/metrics-merge";
import { WEB_PROCESS_ID } from "@/lib/web-process";

export const dynamic = "force-dynamic";

export const GET = withRoute({ route: "metrics" }, async ({ ctx }) => {
  const { contentType, body } = await mergedMetrics(ctx, WEB_PROCESS_ID);
  return reply(body, { headers: { "Content-Type": contentType, "Cache-Control": "no-store" } });
});

export { methodNotAllowed as DELETE, methodNotAllowed as PATCH, methodNotAllowed as POST, methodNotAllowed as PUT };
