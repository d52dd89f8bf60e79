import { createApp } from "@/lib/apps/create";
import { AppCreateInput } from "@/lib/apps/model";
import { json, withRoute } from "@/lib/http/route";

export const dynamic = "force-dynamic";

// The dashboard's own mutations: the session and its role are checked here, on the server.
export const POST = withRoute({ route: "admin.apps.create", body: AppCreateInput }, async ({ ctx, input, caller }) =>
  json(await createApp(ctx, input, caller), { status: 201 }),
);
