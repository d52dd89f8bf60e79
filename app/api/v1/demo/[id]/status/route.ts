import { withRoute } from "@/lib/http/route";
import { watch } from "@/lib/pool/watch";

export const dynamic = "force-dynamic";

export const GET = withRoute({ name: "demo.status", auth: "key" }, async ({ ctx, params }) => {
  const stream = await watch(ctx, params.id);
  return new Response(stream, {
    headers: {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-store",
      Connection: "keep-alive",
      "X-Accel-Buffering": "no",
    },
  });
});
