import { removeBlock } from "@/lib/abuse/blocks";
import { json, withRoute } from "@/lib/http/route";

export const dynamic = "force-dynamic";

export const DELETE = withRoute({ route: "admin.blocks.delete" }, async ({ ctx, params, caller }) =>
  json(await removeBlock(ctx, params.id, caller)),
);
