import { AppPatchInput } from "@/lib/apps/model";
import { removeApp } from "@/lib/apps/remove";
import { updateApp } from "@/lib/apps/update";
import { json, withRoute } from "@/lib/http/route";

export const dynamic = "force-dynamic";

export const PATCH = withRoute({ route: "admin.apps.update", body: AppPatchInput }, async ({ ctx, params, input, caller }) =>
  json(await updateApp(ctx, params.slug, input, caller)),
);

export const DELETE = withRoute({ route: "admin.apps.delete" }, async ({ ctx, params, caller }) =>
  json(await removeApp(ctx, params.slug, caller)),
);
