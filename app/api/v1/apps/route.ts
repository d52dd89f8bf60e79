import { createApp } from "@/lib/apps/create";
import { listApps } from "@/lib/apps/list";
import { AppCreateInput } from "@/lib/apps/model";
import { json, methodNotAllowed, withRoute } from "@/lib/http/route";

export const dynamic = "force-dynamic";

export const GET = withRoute({ route: "apps.list" }, async ({ ctx, caller }) => json(await listApps(ctx, caller)));

export const POST = withRoute({ route: "apps.create", body: AppCreateInput }, async ({ ctx, input, caller }) =>
  json(await createApp(ctx, input, caller), { status: 201 }),
);

export { methodNotAllowed as DELETE, methodNotAllowed as PATCH, methodNotAllowed as PUT };
