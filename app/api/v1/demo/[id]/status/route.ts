import { methodNotAllowed, preflight, reply, withRoute } from "@/lib/http/route";
import { watch } from "@/lib/pool/watch";

export const dynamic = "force-dynamic";

export const GET = withRoute({ route: "demo.status" }, async ({ ctx, actor, params, clientIp }) =>
  reply(await watch(ctx, params.id, actor, clientIp), {
    headers: {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-store",
      Connection: "keep-alive",
      "X-Accel-Buffering": "no",
    },
  }),
);

export {
  methodNotAllowed as DELETE,
  methodNotAllowed as PATCH,
  methodNotAllowed as POST,
  methodNotAllowed as PUT,
  preflight as OPTIONS,
};
