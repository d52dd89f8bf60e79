import { removeBlock } from "@/lib/abuse/blocks";
import { json, methodNotAllowed, withRoute } from "@/lib/http/route";

export const dynamic = "force-dynamic";

export const DELETE = withRoute({ route: "blocks.delete" }, async ({ ctx, params, caller }) =>
  json(await removeBlock(ctx, params.id, caller)),
);

export { methodNotAllowed as GET, methodNotAllowed as PATCH, methodNotAllowed as POST, methodNotAllowed as PUT };
