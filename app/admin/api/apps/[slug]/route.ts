import { AppPatchInput } from "@/lib/apps/model";
import { removeApp } from "@/lib/apps/remove";
import { updateApp } from "@/lib/apps/update";
import { json, withRoute } from "@/lib/http/route";

export const dynamic = "force-dynamic";

export const PATCH = withRoute(
  { name: "admin.apps.update", auth: { session: "admin" }, body: AppPatchInput },
  async ({ ctx, params, input, caller }) => json(await updateApp(ctx, params.slug, input, caller)),
);

export const DELETE = withRoute({ name: "admin.apps.delete", auth: { session: "admin" } }, async ({ ctx, params, caller }) =>
  json(await removeApp(ctx, params.slug, caller)),
);
