import { BlockInput, createBlock, listBlocks } from "@/lib/abuse/blocks";
import { json, withRoute } from "@/lib/http/route";

export const dynamic = "force-dynamic";

export const GET = withRoute({ route: "admin.blocks.list" }, async ({ ctx, caller }) =>
  json({ blocks: await listBlocks(ctx, caller) }),
);

export const POST = withRoute({ route: "admin.blocks.create", body: BlockInput }, async ({ ctx, input, caller }) =>
  json(await createBlock(ctx, input, caller), { status: 201 }),
);
