import { json, withRoute } from "@/lib/http/route";
import { AcquireInput, acquire } from "@/lib/pool/acquire";

export const dynamic = "force-dynamic";

export const POST = withRoute({ name: "demo.acquire", auth: "key", body: AcquireInput }, async ({ ctx, input, clientIp }) => {
  const { instance, headers } = await acquire(ctx, { ...input, clientIp });
  return json(instance, { headers });
});
