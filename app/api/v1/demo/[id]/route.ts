import { json, methodNotAllowed, preflight, withRoute } from "@/lib/http/route";
import { getInstance } from "@/lib/pool/get";
import { release } from "@/lib/pool/release";

export const dynamic = "force-dynamic";

export const GET = withRoute({ route: "demo.get" }, async ({ ctx, actor, params }) =>
  json(await getInstance(ctx, params.id, actor)),
);

export const DELETE = withRoute({ route: "demo.release" }, async ({ ctx, actor, params, requestId }) =>
  json(await release(ctx, params.id, actor, requestId)),
);

export { methodNotAllowed as PATCH, methodNotAllowed as POST, methodNotAllowed as PUT, preflight as OPTIONS };
