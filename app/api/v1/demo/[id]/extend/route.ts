import { json, withRoute } from "@/lib/http/route";
import { ExtendInput, extend } from "@/lib/pool/extend";

export const dynamic = "force-dynamic";

export const POST = withRoute({ name: "demo.extend", auth: "key", body: ExtendInput }, async ({ ctx, params, input }) =>
  json(await extend(ctx, params.id, input)),
);
