import type { Metadata } from "next";
import { BlocksPanel, TrailPanel } from "@/components/admin/abuse-panel";
import { listBlocks } from "@/lib/abuse/blocks";
import { mayWrite } from "@/lib/admin/session";
import { listApps } from "@/lib/apps/list";
import { requireUser } from "../../_lib/guard";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Abuse · Try It Now" };

export default async function AbusePage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { ctx, user, caller } = await requireUser("/admin/abuse");
  const [blocks, { apps }, query] = await Promise.all([listBlocks(ctx, caller), listApps(ctx, caller), searchParams]);
  const one = (name: string) => (typeof query[name] === "string" ? (query[name] as string) : undefined);
  return (
    <div className="max-w-6xl space-y-10">
      <header>
        <h1 className="text-2xl font-semibold text-slate-900">Abuse</h1>
        <p className="text-sm text-slate-600">
          Who held which demo, and the addresses that may not start any. Drain caps and the browser check are app settings.
        </p>
      </header>
      <BlocksPanel blocks={blocks} apps={apps.map((app) => app.slug)} canWrite={mayWrite(user)} />
      {mayWrite(user) ? (
        <TrailPanel initial={{ instance: one("instance"), ip: one("ip"), app: one("app") }} />
      ) : (
        <section aria-labelledby="trail-title" className="space-y-2">
          <h2 id="trail-title" className="text-lg font-semibold text-slate-900">
            Abuse trail
          </h2>
          <p className="text-sm text-slate-600">Only admins can read the abuse trail: it holds visitors' addresses.</p>
        </section>
      )}
    </div>
  );
}
