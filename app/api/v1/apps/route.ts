import { createApp } from "@/lib/apps/create";
import { listApps } from "@/lib/apps/list";
import { AppCreateInput } from "@/lib/apps/model";
import { json, withRoute } from "@/lib/http/route";

export const dynamic = "force-dynamic";

export const GET = withRoute({ name: "apps.list", auth: "key" }, async ({ ctx }) => json(await listApps(ctx)));

export const POST = withRoute({ name: "apps.create", auth: "key", body: AppCreateInput }, async ({ ctx, input }) =>
  json(await createApp(ctx, input), { status: 201 }),
);
