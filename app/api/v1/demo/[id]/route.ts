import { json, withRoute } from "@/lib/http/route";
import { getInstance } from "@/lib/pool/get";
import { release } from "@/lib/pool/release";

export const dynamic = "force-dynamic";

export const GET = withRoute({ name: "demo.get", auth: "key" }, async ({ ctx, params }) => json(await getInstance(ctx, params.id)));

export const DELETE = withRoute({ name: "demo.release", auth: "key" }, async ({ ctx, params }) =>
  json(await release(ctx, params.id)),
);
