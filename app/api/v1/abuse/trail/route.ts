import { readTrail } from "@/lib/abuse/trail";
import { json, methodNotAllowed, withRoute } from "@/lib/http/route";

export const dynamic = "force-dynamic";

/** `GET /api/v1/abuse/trail?app=&ip=&instance=&at=`: who held which demo, when (scope `abuse:read`). */
export const GET = withRoute({ route: "abuse.trail" }, async ({ ctx, caller, request }) =>
  json({ trail: await readTrail(ctx, caller, new URL(request.url).searchParams) }),
);

export { methodNotAllowed as DELETE, methodNotAllowed as PATCH, methodNotAllowed as POST, methodNotAllowed as PUT };
