import { json, methodNotAllowed, withRoute } from "@/lib/http/route";
import { createKey } from "@/lib/keys/create";
import { listKeys } from "@/lib/keys/list";
import { KeyCreateInput } from "@/lib/keys/model";

export const dynamic = "force-dynamic";

export const GET = withRoute({ route: "keys.list" }, async ({ ctx, caller }) => json(await listKeys(ctx, caller)));

export const POST = withRoute({ route: "keys.create", body: KeyCreateInput }, async ({ ctx, input, caller }) =>
  json(await createKey(ctx, input, caller), { status: 201 }),
);

export { methodNotAllowed as DELETE, methodNotAllowed as PATCH, methodNotAllowed as PUT };
