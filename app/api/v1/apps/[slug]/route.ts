import { getApp } from "@/lib/apps/get";
import { AppPatchInput } from "@/lib/apps/model";
import { removeApp } from "@/lib/apps/remove";
import { updateApp } from "@/lib/apps/update";
import { json, methodNotAllowed, withRoute } from "@/lib/http/route";

export const dynamic = "force-dynamic";

export const GET = withRoute({ name: "apps.get", auth: { scope: "apps:read" } }, async ({ ctx, params, caller }) =>
  json(await getApp(ctx, params.slug, caller)),
);

export const PATCH = withRoute(
  { name: "apps.update", auth: { scope: "apps:write" }, body: AppPatchInput },
  async ({ ctx, params, input, caller }) => json(await updateApp(ctx, params.slug, input, caller)),
);

export const DELETE = withRoute({ name: "apps.delete", auth: { scope: "apps:write" } }, async ({ ctx, params, caller }) =>
  json(await removeApp(ctx, params.slug, caller)),
);

export { methodNotAllowed as POST, methodNotAllowed as PUT };
