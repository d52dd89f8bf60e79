import type { Metadata } from "next";
import { LiveOverview } from "@/components/admin/live-overview";
import { overview } from "@/lib/admin/overview";
import { requireUser } from "../_lib/guard";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Overview · Try It Now" };

export default async function OverviewPage() {
  const { ctx } = await requireUser("/admin");
  return (
    <div className="max-w-7xl space-y-6">
      <header>
        <h1 className="text-2xl font-semibold text-slate-900">Overview</h1>
        <p className="text-sm text-slate-600">Live: the numbers refresh every 2 seconds.</p>
      </header>
      <LiveOverview initial={await overview(ctx)} />
    </div>
  );
}
