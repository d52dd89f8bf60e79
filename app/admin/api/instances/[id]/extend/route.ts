import { json, withRoute } from "@/lib/http/route";
import { ExtendInput } from "@/lib/pool/extend";
import { extendByAdmin } from "@/lib/pool/extend-by-admin";

export const dynamic = "force-dynamic";

export const POST = withRoute(
  { route: "admin.instances.extend", body: ExtendInput },
  async ({ ctx, actor, params, input, caller }) => json(await extendByAdmin(ctx, params.id, input, actor, caller)),
);
