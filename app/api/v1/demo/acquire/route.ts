import { json, methodNotAllowed, preflight, withRoute } from "@/lib/http/route";
import { AcquireInput, acquire } from "@/lib/pool/acquire";

export const dynamic = "force-dynamic";

export const POST = withRoute(
  { route: "demo.acquire", body: AcquireInput },
  async ({ ctx, actor, input, clientIp, requestId }) => {
    const { instance, headers } = await acquire(ctx, { ...input, clientIp, actor, requestId });
    return json(instance, { headers });
  },
);

export {
  methodNotAllowed as DELETE,
  methodNotAllowed as GET,
  methodNotAllowed as PATCH,
  methodNotAllowed as PUT,
  preflight as OPTIONS,
};
