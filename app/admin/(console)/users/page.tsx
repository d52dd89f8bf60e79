import type { Metadata } from "next";
import { UsersPanel } from "@/components/admin/users-panel";
import { listAdminUsers } from "@/lib/admin/users/list";
import { requireUser } from "../../_lib/guard";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Users · Try It Now" };

export default async function UsersPage() {
  const { ctx, user } = await requireUser("/admin/users");
  if (user.role !== "admin") {
    return (
      <div className="max-w-xl space-y-2">
        <h1 className="text-2xl font-semibold text-slate-900">Users</h1>
        <p className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-800">Only admins manage users.</p>
      </div>
    );
  }
  const { users } = await listAdminUsers(ctx);
  return (
    <div className="max-w-5xl space-y-6">
      <header>
        <h1 className="text-2xl font-semibold text-slate-900">Users</h1>
        <p className="text-sm text-slate-600">
          Who may sign in to this dashboard. From a shell:{" "}
          <span className="font-mono">npm run admin -- add &lt;email&gt; [--role viewer]</span>.
        </p>
      </header>
      <UsersPanel users={users} me={user.id} />
    </div>
  );
}
