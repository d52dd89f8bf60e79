import { AppError } from "@/lib/errors";
import { funnelCsv, sessionsCsv } from "@/lib/events/csv";
import { funnel, parseRange, sessionRows } from "@/lib/events/funnel";
import { reply, withRoute } from "@/lib/http/route";

export const dynamic = "force-dynamic";

/** CSV downloads of the Analytics page: `?kind=funnel|sessions&app=&from=&to=`. */
export const GET = withRoute({ route: "admin.analytics.export" }, async ({ ctx, request }) => {
  const params = new URL(request.url).searchParams;
  const kind = params.get("kind");
  if (kind !== "funnel" && kind !== "sessions") throw new AppError("INVALID_REQUEST", 'kind must be "funnel" or "sessions"');
  const range = parseRange(params);
  const body = kind === "funnel" ? funnelCsv(await funnel(ctx, range)) : sessionsCsv(await sessionRows(ctx, range));
  const day = (date: Date) => date.toISOString().slice(0, 10);
  return reply(body, {
    headers: {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="${range.app}-${kind}-${day(range.from)}-${day(range.to)}.csv"`,
      "Cache-Control": "no-store",
    },
  });
});
