import { json, withRoute } from "@/lib/http/route";
import { retryDeadLetter } from "@/lib/jobs/dead-letters";

export const dynamic = "force-dynamic";

export const POST = withRoute({ route: "admin.jobs.retry" }, async ({ ctx, params, caller }) =>
  json(await retryDeadLetter(ctx, params.id, caller)),
);
