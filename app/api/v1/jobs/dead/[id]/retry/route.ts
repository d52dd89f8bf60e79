import { json, methodNotAllowed, withRoute } from "@/lib/http/route";
import { retryDeadLetter } from "@/lib/jobs/dead-letters";

export const dynamic = "force-dynamic";

export const POST = withRoute({ route: "jobs.dead.retry" }, async ({ ctx, params, caller }) =>
  json(await retryDeadLetter(ctx, params.id, caller)),
);

export { methodNotAllowed as DELETE, methodNotAllowed as GET, methodNotAllowed as PATCH, methodNotAllowed as PUT };
