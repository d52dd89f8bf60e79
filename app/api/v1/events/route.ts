import { BEACON_MAX_BYTES, BeaconInput, recordBeacon } from "@/lib/events/beacon";
import { methodNotAllowed, preflight, reply, withRoute } from "@/lib/http/route";

export const dynamic = "force-dynamic";

/**
 * The embed's impression and click beacons (ARCHITECTURE.md, "Funnel analytics"): `sendBeacon`
 * cannot set headers, so the publishable key rides in `?key=` and the body is `text/plain` JSON.
 * The key's allowed origins are checked as for acquire. 204, counted or not (a bot is not told).
 */
export const POST = withRoute(
  { route: "events.beacon", body: BeaconInput, maxBodyBytes: BEACON_MAX_BYTES },
  async ({ ctx, actor, input, clientIp, requestId, request }) => {
    await recordBeacon(ctx, { ...input, actor, clientIp, requestId, userAgent: request.headers.get("user-agent") });
    return reply(null, { status: 204, headers: { "Cache-Control": "no-store" } });
  },
);

export {
  methodNotAllowed as DELETE,
  methodNotAllowed as GET,
  methodNotAllowed as PATCH,
  methodNotAllowed as PUT,
  preflight as OPTIONS,
};
