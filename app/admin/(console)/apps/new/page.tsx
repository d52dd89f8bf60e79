import type { Metadata } from "next";
import Link from "next/link";
import { AppForm } from "@/components/admin/app-form";
import { CAPABILITIES, formFields, initialSpec } from "@/lib/app-spec";
import { appView } from "@/lib/apps/model";
import { requireUser } from "../../../_lib/guard";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "New app · Try It Now" };

export default async function NewAppPage() {
  const { ctx, user } = await requireUser("/admin/apps/new");
  // The form starts from what the API would give a new app: the environment's defaults.
  const defaults = appView({ ...initialSpec(ctx.config, ""), name: "", image: "" });
  return (
    <div className="max-w-4xl space-y-6">
      <nav aria-label="Breadcrumb" className="text-sm text-slate-500">
        <Link href="/admin/apps" className="hover:underline">
          Apps
        </Link>{" "}
        / New
      </nav>
      <h1 className="text-2xl font-semibold text-slate-900">New app</h1>
      {user.role !== "admin" ? (
        <p className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-800">
          Your role may look but not change: ask an admin to create apps.
        </p>
      ) : (
        <AppForm fields={formFields()} capabilities={CAPABILITIES} values={defaults} readOnly={false} />
      )}
    </div>
  );
}
