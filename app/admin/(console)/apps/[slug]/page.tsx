import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { AppActions } from "@/components/admin/app-actions";
import { AppForm } from "@/components/admin/app-form";
import { InstancesPanel } from "@/components/admin/instances-panel";
import { SeedUpload } from "@/components/admin/seed-upload";
import { Badge } from "@/components/ui/badge";
import { mayWrite } from "@/lib/admin/session";
import { CAPABILITIES, formFields } from "@/lib/app-spec";
import { getApp } from "@/lib/apps/get";
import { describeEgress } from "@/lib/egress/describe";
import { AppError } from "@/lib/errors";
import { poolStats } from "@/lib/pool/stats";
import { launchPageUrl } from "@/lib/public-url";
import { requireUser } from "../../../_lib/guard";

export const dynamic = "force-dynamic";

type Props = { params: Promise<{ slug: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: `${(await params).slug} · Apps · Try It Now` };
}

export default async function AppPage({ params }: Props) {
  const { slug } = await params;
  const { ctx, user, caller } = await requireUser(`/admin/apps/${slug}`);
  const app = await getApp(ctx, slug, caller).catch((error) => {
    if (error instanceof AppError && error.code === "NOT_FOUND") notFound();
    throw error;
  });
  const pool = (await poolStats(ctx, caller)).apps.find((entry) => entry.app === slug);
  const canWrite = mayWrite(user);
  const launch = launchPageUrl(ctx.config, slug);
  return (
    <div className="max-w-5xl space-y-8">
      <div className="space-y-3">
        <nav aria-label="Breadcrumb" className="text-sm text-slate-500">
          <Link href="/admin/apps" className="hover:underline">
            Apps
          </Link>{" "}
          / <span className="font-mono">{slug}</span>
        </nav>
        <header className="flex flex-wrap items-start justify-between gap-3">
          <div className="min-w-0 space-y-1">
            <h1 className="break-words text-2xl font-semibold text-slate-900">{app.name}</h1>
            <p className="flex flex-wrap items-center gap-2 text-sm text-slate-600">
              <span className="font-mono">{slug}</span>
              {app.paused ? <Badge tone="amber">paused</Badge> : <Badge tone="green">serving</Badge>}
              {pool?.consecutive_failures ? <Badge tone="red">{pool.consecutive_failures} failed provisions</Badge> : null}
            </p>
            <p className="text-sm">
              Launch page:{" "}
              <a href={launch} className="break-all font-mono text-indigo-700 underline" target="_blank" rel="noreferrer">
                {launch}
              </a>
            </p>
            {pool?.last_error && pool.consecutive_failures > 0 && (
              <p className="max-w-2xl break-words rounded-md bg-rose-50 px-3 py-2 text-xs text-rose-800">
                Last provision error: {pool.last_error}
              </p>
            )}
          </div>
          {canWrite && <AppActions slug={slug} paused={app.paused} assigned={pool?.assigned ?? 0} />}
        </header>
      </div>
      <InstancesPanel slug={slug} canWrite={canWrite} />
      <section aria-labelledby="network-title" className="space-y-2">
        <h2 id="network-title" className="text-lg font-semibold text-slate-900">
          What an instance may reach
        </h2>
        <ul className="max-w-3xl list-disc space-y-1 pl-5 text-sm text-slate-700">
          {describeEgress(app).map((line) => (
            <li key={line}>{line}</li>
          ))}
        </ul>
      </section>
      <section aria-labelledby="database-title" className="space-y-3">
        <h2 id="database-title" className="text-lg font-semibold text-slate-900">
          Database
        </h2>
        <p className="max-w-3xl text-sm text-slate-700">
          {app.database === "mariadb" ? (
            <>
              Each instance gets a MariaDB database of its own, cloned from{" "}
              {app.database_seed ? <span className="break-all font-mono">{app.database_seed}</span> : "an empty database"}, with a
              user that reaches nothing else.
              {app.sign_in_user && (
                <>
                  {" "}
                  Visitors sign in as <span className="font-mono">{app.sign_in_user}</span> with a password made for their demo.
                </>
              )}
            </>
          ) : (
            "None: instances of this app have no database and cannot reach the demo database server."
          )}
        </p>
        {canWrite && <SeedUpload slug={slug} limitMb={ctx.config.SEED_UPLOAD_MAX_MB} />}
      </section>
      <section aria-labelledby="settings-title" className="space-y-3">
        <h2 id="settings-title" className="text-lg font-semibold text-slate-900">
          Settings
        </h2>
        {!canWrite && <p className="text-sm text-slate-600">Your role may look but not change.</p>}
        <AppForm
          fields={formFields().filter((field) => field.api !== "paused")}
          capabilities={CAPABILITIES}
          values={app}
          slug={slug}
          readOnly={!canWrite}
        />
      </section>
    </div>
  );
}
