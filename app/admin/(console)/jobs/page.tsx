import type { Metadata } from "next";
import { DeadLetters } from "@/components/admin/dead-letters";
import { mayWrite } from "@/lib/admin/session";
import { AppError } from "@/lib/errors";
import { listDeadLetters } from "@/lib/jobs/dead-letters";
import { requireUser } from "../../_lib/guard";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Jobs · Try It Now" };

export default async function JobsPage() {
  const { ctx, user, caller } = await requireUser("/admin/jobs");
  const listing = await listDeadLetters(ctx, caller).catch((error) => {
    if (error instanceof AppError && error.code === "UNAVAILABLE") return null;
    throw error;
  });
  return (
    <div className="max-w-6xl space-y-6">
      <header>
        <h1 className="text-2xl font-semibold text-slate-900">Jobs</h1>
        <p className="text-sm text-slate-600">
          Cleanup jobs run on the job bus and are retried with back-off; one that fails every delivery becomes a dead letter,
          listed here.
        </p>
      </header>
      {listing ? (
        <DeadLetters rows={listing.dead} canWrite={mayWrite(user)} />
      ) : (
        <p role="alert" className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-800">
          The job bus (NATS) is not reachable right now; dead letters cannot be listed.
        </p>
      )}
    </div>
  );
}
