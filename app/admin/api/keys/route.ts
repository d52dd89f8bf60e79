import { json, withRoute } from "@/lib/http/route";
import { createKeyForSite } from "@/lib/keys/create-for-site";
import { KeyCreateInput } from "@/lib/keys/model";

export const dynamic = "force-dynamic";

export const POST = withRoute({ route: "admin.keys.create", body: KeyCreateInput }, async ({ ctx, input, caller }) =>
  json(await createKeyForSite(ctx, input, caller), { status: 201 }),
);
