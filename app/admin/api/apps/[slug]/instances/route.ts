import { json, withRoute } from "@/lib/http/route";
import { listInstances } from "@/lib/pool/list-instances";

export const dynamic = "force-dynamic";

export const GET = withRoute({ name: "admin.instances.list", auth: { session: "viewer" } }, async ({ ctx, params }) =>
  json(await listInstances(ctx, params.slug)),
);
