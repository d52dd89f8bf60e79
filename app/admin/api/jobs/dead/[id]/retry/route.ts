import { retryDeadLetter } from "@/lib/bus/dead-letters";
import { json, withRoute } from "@/lib/http/route";

export const dynamic = "force-dynamic";

export const POST = withRoute({ route: "admin.jobs.retry" }, async ({ ctx, params, caller }) =>
  json(await retryDeadLetter(ctx, params.id, caller)),
);
