import { json, methodNotAllowed, withRoute } from "@/lib/http/route";
import { listDeadLetters } from "@/lib/jobs/dead-letters";

export const dynamic = "force-dynamic";

export const GET = withRoute({ route: "jobs.dead.list" }, async ({ ctx, caller }) => json(await listDeadLetters(ctx, caller)));

export { methodNotAllowed as DELETE, methodNotAllowed as PATCH, methodNotAllowed as POST, methodNotAllowed as PUT };
