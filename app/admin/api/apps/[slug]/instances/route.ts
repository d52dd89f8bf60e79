import { json, withRoute } from "@/lib/http/route";
import { listInstances } from "@/lib/pool/list-instances";

export const dynamic = "force-dynamic";

export const GET = withRoute({ route: "admin.instances.list" }, async ({ ctx, params }) =>
  json(await listInstances(ctx, params.slug)),
);
