import { readTrail } from "@/lib/abuse/trail";
import { json, withRoute } from "@/lib/http/route";

export const dynamic = "force-dynamic";

/** The abuse trail for the dashboard: admins only (raw client addresses). */
export const GET = withRoute({ route: "admin.trail" }, async ({ ctx, caller, request }) =>
  json({ trail: await readTrail(ctx, caller, new URL(request.url).searchParams) }),
);
