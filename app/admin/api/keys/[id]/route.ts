import { json, withRoute } from "@/lib/http/route";
import { revokeKey } from "@/lib/keys/revoke";

export const dynamic = "force-dynamic";

export const DELETE = withRoute({ name: "admin.keys.revoke", auth: { session: "admin" } }, async ({ ctx, params, caller }) =>
  json(await revokeKey(ctx, params.id, caller)),
);
