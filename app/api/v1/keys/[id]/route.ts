import { json, methodNotAllowed, withRoute } from "@/lib/http/route";
import { revokeKey } from "@/lib/keys/revoke";

export const dynamic = "force-dynamic";

export const DELETE = withRoute({ route: "keys.revoke" }, async ({ ctx, params, caller }) =>
  json(await revokeKey(ctx, params.id, caller)),
);

export { methodNotAllowed as GET, methodNotAllowed as PATCH, methodNotAllowed as POST, methodNotAllowed as PUT };
