import type { Metadata } from "next";
import { KeysPanel } from "@/components/admin/keys-panel";
import { mayWrite } from "@/lib/admin/session";
import { listApps } from "@/lib/apps/list";
import { listKeys } from "@/lib/keys/list";
import { SCOPES } from "@/lib/keys/model";
import { requireUser } from "../../_lib/guard";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "API keys · Try It Now" };

export default async function KeysPage() {
  const { ctx, user, caller } = await requireUser("/admin/keys");
  const [{ keys }, { apps }] = await Promise.all([listKeys(ctx, caller), listApps(ctx, caller)]);
  return (
    <div className="max-w-6xl space-y-6">
      <header>
        <h1 className="text-2xl font-semibold text-slate-900">API keys</h1>
        <p className="text-sm text-slate-600">
          Secret keys call the API from your servers; publishable keys start demos from your web pages. Keys are shown once, then
          only their prefix.
        </p>
      </header>
      <KeysPanel keys={keys} apps={apps.map((app) => app.slug)} scopes={SCOPES} canWrite={mayWrite(user)} />
    </div>
  );
}
