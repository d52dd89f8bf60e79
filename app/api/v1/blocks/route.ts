import { BlockInput, createBlock, listBlocks } from "@/lib/abuse/blocks";
import { json, methodNotAllowed, withRoute } from "@/lib/http/route";

export const dynamic = "force-dynamic";

export const GET = withRoute({ route: "blocks.list" }, async ({ ctx, caller }) =>
  json({ blocks: await listBlocks(ctx, caller) }),
);

export const POST = withRoute({ route: "blocks.create", body: BlockInput }, async ({ ctx, input, caller }) =>
  json(await createBlock(ctx, input, caller), { status: 201 }),
);

export { methodNotAllowed as DELETE, methodNotAllowed as PATCH, methodNotAllowed as PUT };
