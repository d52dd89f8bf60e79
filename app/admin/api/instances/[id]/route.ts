import { json, withRoute } from "@/lib/http/route";
import { terminateInstance } from "@/lib/pool/terminate";

export const dynamic = "force-dynamic";

export const DELETE = withRoute({ route: "admin.instances.terminate" }, async ({ ctx, actor, params, caller }) =>
  json(await terminateInstance(ctx, params.id, actor, caller)),
);
