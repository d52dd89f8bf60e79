import type { Metadata } from "next";
import Link from "next/link";
import { Badge } from "@/components/ui/badge";
import { buttonClass } from "@/components/ui/button";
import { EmptyState, Table, TBody, Td, THead, Th } from "@/components/ui/table";
import { mayWrite } from "@/lib/admin/session";
import { listApps } from "@/lib/apps/list";
import { poolStats } from "@/lib/pool/stats";
import { requireUser } from "../../_lib/guard";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Apps · Try It Now" };

export default async function AppsPage() {
  const { ctx, user, caller } = await requireUser("/admin/apps");
  const [{ apps }, stats] = await Promise.all([listApps(ctx, caller), poolStats(ctx, caller)]);
  const pools = new Map(stats.apps.map((app) => [app.app, app]));
  return (
    <div className="space-y-6">
      <header className="flex flex-wrap items-center justify-between gap-3">
        <div>
          <h1 className="text-2xl font-semibold text-slate-900">Apps</h1>
          <p className="text-sm text-slate-600">Each app keeps a warm pool of containers for its visitors.</p>
        </div>
        {mayWrite(user) && (
          <Link href="/admin/apps/new" className={buttonClass("primary")}>
            New app
          </Link>
        )}
      </header>
      {apps.length === 0 ? (
        <EmptyState title="No apps yet — create one">
          {mayWrite(user) ? (
            <Link href="/admin/apps/new" className="font-medium text-indigo-700 underline">
              Create your first app
            </Link>
          ) : (
            "An admin can create one."
          )}
        </EmptyState>
      ) : (
        <Table label="Apps">
          <THead>
            <Th>App</Th>
            <Th>Image</Th>
            <Th>Ready</Th>
            <Th>Warming</Th>
            <Th>Assigned</Th>
            <Th>Target / max</Th>
            <Th>Status</Th>
          </THead>
          <TBody>
            {apps.map((app) => {
              const pool = pools.get(app.slug);
              return (
                <tr key={app.slug}>
                  <Td className="max-w-[16rem]">
                    <Link
                      href={`/admin/apps/${app.slug}`}
                      className="block truncate font-medium text-indigo-700 hover:underline"
                      title={app.name}
                    >
                      {app.name}
                    </Link>
                    <span className="block truncate font-mono text-xs text-slate-500">{app.slug}</span>
                  </Td>
                  <Td className="max-w-[14rem] truncate font-mono text-xs" title={app.image}>
                    {app.image}
                  </Td>
                  <Td>{pool?.ready ?? 0}</Td>
                  <Td>{pool?.warming ?? 0}</Td>
                  <Td>{pool?.assigned ?? 0}</Td>
                  <Td className="whitespace-nowrap">
                    {app.pool_target} / {app.pool_max}
                  </Td>
                  <Td>
                    {app.paused ? (
                      <Badge tone="amber">paused</Badge>
                    ) : pool?.consecutive_failures ? (
                      <Badge tone="red">failing</Badge>
                    ) : (
                      <Badge tone="green">serving</Badge>
                    )}
                  </Td>
                </tr>
              );
            })}
          </TBody>
        </Table>
      )}
    </div>
  );
}
