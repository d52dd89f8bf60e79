import type { Metadata } from "next";
import { AnalyticsView } from "@/components/admin/analytics-view";
import { listApps } from "@/lib/apps/list";
import { requireUser } from "../../_lib/guard";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Analytics · Try It Now" };

export default async function AnalyticsPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { ctx, caller } = await requireUser("/admin/analytics");
  const slugs = (await listApps(ctx, caller)).apps.map((app) => app.slug);
  const wanted = (await searchParams).app;
  const initialApp = typeof wanted === "string" && slugs.includes(wanted) ? wanted : (slugs[0] ?? null);
  return (
    <div className="max-w-7xl space-y-6">
      <header>
        <h1 className="text-2xl font-semibold text-slate-900">Analytics</h1>
        <p className="text-sm text-slate-600">
          From the button&apos;s impressions to conversions, per app: where visitors drop off, and how many the pool turned away.
        </p>
      </header>
      <AnalyticsView apps={slugs} initialApp={initialApp} />
    </div>
  );
}
