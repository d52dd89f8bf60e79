import { json, methodNotAllowed, withRoute } from "@/lib/http/route";
import { poolStats } from "@/lib/pool/stats";

export const dynamic = "force-dynamic";

export const GET = withRoute({ route: "pool.stats" }, async ({ ctx, caller }) => json(await poolStats(ctx, caller)));

export { methodNotAllowed as DELETE, methodNotAllowed as PATCH, methodNotAllowed as POST, methodNotAllowed as PUT };
