import { json, withRoute } from "@/lib/http/route";
import { revokeKey } from "@/lib/keys/revoke";

export const dynamic = "force-dynamic";

export const DELETE = withRoute({ route: "admin.keys.revoke" }, async ({ ctx, params, caller }) =>
  json(await revokeKey(ctx, params.id, caller)),
);
