import { readTrail, TrailQuery } from "@/lib/abuse/trail";
import { invalidInput } from "@/lib/errors";
import { json, withRoute } from "@/lib/http/route";

export const dynamic = "force-dynamic";

/** The abuse trail for the dashboard: admins only (raw client addresses). */
export const GET = withRoute({ route: "admin.trail" }, async ({ ctx, caller, request }) => {
  const query = TrailQuery.safeParse(Object.fromEntries(new URL(request.url).searchParams));
  if (!query.success) throw invalidInput(query.error.issues);
  return json({ trail: await readTrail(ctx, caller, query.data) });
});
