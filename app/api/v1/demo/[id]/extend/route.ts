import { json, methodNotAllowed, preflight, withRoute } from "@/lib/http/route";
import { ExtendInput, extend } from "@/lib/pool/extend";

export const dynamic = "force-dynamic";

export const POST = withRoute({ route: "demo.extend", body: ExtendInput }, async ({ ctx, actor, params, input, requestId }) =>
  json(await extend(ctx, params.id, input, actor, requestId)),
);

export {
  methodNotAllowed as DELETE,
  methodNotAllowed as GET,
  methodNotAllowed as PATCH,
  methodNotAllowed as PUT,
  preflight as OPTIONS,
};
