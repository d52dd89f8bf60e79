import { getApp } from "@/lib/apps/get";
import { AppPatchInput } from "@/lib/apps/model";
import { removeApp } from "@/lib/apps/remove";
import { updateApp } from "@/lib/apps/update";
import { json, methodNotAllowed, withRoute } from "@/lib/http/route";

export const dynamic = "force-dynamic";

export const GET = withRoute({ route: "apps.get" }, async ({ ctx, params, caller }) =>
  json(await getApp(ctx, params.slug, caller)),
);

export const PATCH = withRoute({ route: "apps.update", body: AppPatchInput }, async ({ ctx, params, input, caller }) =>
  json(await updateApp(ctx, params.slug, input, caller)),
);

export const DELETE = withRoute({ route: "apps.delete" }, async ({ ctx, params, caller }) =>
  json(await removeApp(ctx, params.slug, caller)),
);

export { methodNotAllowed as POST, methodNotAllowed as PUT };
