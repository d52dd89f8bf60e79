import { ConvertInput, convert } from "@/lib/events/convert";
import { json, methodNotAllowed, withRoute } from "@/lib/http/route";

export const dynamic = "force-dynamic";

/** The app's sign-up flow credits the instance (ARCHITECTURE.md, "Funnel analytics"); secret keys only. */
export const POST = withRoute({ route: "demo.convert", body: ConvertInput }, async ({ ctx, actor, params, input, requestId }) =>
  json(await convert(ctx, params.id, input, actor, requestId), { status: 202 }),
);

export { methodNotAllowed as DELETE, methodNotAllowed as GET, methodNotAllowed as PATCH, methodNotAllowed as PUT };
