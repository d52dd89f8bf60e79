import { readTrail, TrailQuery } from "@/lib/abuse/trail";
import { invalidInput } from "@/lib/errors";
import { json, methodNotAllowed, withRoute } from "@/lib/http/route";

export const dynamic = "force-dynamic";

/** `GET /api/v1/abuse/trail?app=&ip=&instance=&at=`: who held which demo, when (scope `abuse:read`). */
export const GET = withRoute({ route: "abuse.trail" }, async ({ ctx, caller, request }) => {
  const query = TrailQuery.safeParse(Object.fromEntries(new URL(request.url).searchParams));
  if (!query.success) throw invalidInput(query.error.issues);
  return json({ trail: await readTrail(ctx, caller, query.data) });
});

export { methodNotAllowed as DELETE, methodNotAllowed as PATCH, methodNotAllowed as POST, methodNotAllowed as PUT };
