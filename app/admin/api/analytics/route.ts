import { funnel, parseRange, series, topSources } from "@/lib/events/funnel";
import { json, withRoute } from "@/lib/http/route";

export const dynamic = "force-dynamic";

/** Everything the Analytics page draws for one app and range, in one answer. */
export const GET = withRoute({ route: "admin.analytics" }, async ({ ctx, request }) => {
  const range = parseRange(new URL(request.url).searchParams);
  const [summary, timeline, sources] = await Promise.all([funnel(ctx, range), series(ctx, range), topSources(ctx, range)]);
  return json({ ...summary, series: timeline, sources });
});
