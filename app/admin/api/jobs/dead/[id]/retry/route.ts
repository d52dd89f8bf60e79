import { retryDeadLetter } from "@/lib/bus/dead-letters";
import { json, withRoute } from "@/lib/http/route";

export const dynamic = "force-dynamic";

export const POST = withRoute({ name: "admin.jobs.retry", auth: { session: "admin" } }, async ({ ctx, params, caller }) =>
  json(await retryDeadLetter(ctx, params.id, caller)),
);
