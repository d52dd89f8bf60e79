import { json, methodNotAllowed, preflight, withRoute } from "@/lib/http/route";
import { getInstance } from "@/lib/pool/get";
import { release } from "@/lib/pool/release";

export const dynamic = "force-dynamic";

const auth = { scope: "demo", publishable: "instance" } as const;

export const GET = withRoute({ name: "demo.get", auth }, async ({ ctx, actor, params }) => json(await getInstance(ctx, params.id, actor)));

export const DELETE = withRoute({ name: "demo.release", auth }, async ({ ctx, actor, params, requestId }) =>
  json(await release(ctx, params.id, actor, requestId)),
);

export { methodNotAllowed as PATCH, methodNotAllowed as POST, methodNotAllowed as PUT, preflight as OPTIONS };
