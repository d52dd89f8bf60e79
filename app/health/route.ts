import { healthReport } from "@/lib/health";
import { json, methodNotAllowed, withRoute } from "@/lib/http/route";

export const dynamic = "force-dynamic";

export const GET = withRoute({ route: "health" }, async ({ ctx }) => {
  const { healthy, body } = await healthReport(ctx);
  return json(body, { status: healthy ? 200 : 503 });
});

export { methodNotAllowed as DELETE, methodNotAllowed as PATCH, methodNotAllowed as POST, methodNotAllowed as PUT };
