"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { EmptyState, Table, TBody, Td, THead, Th, ThActions } from "@/components/ui/table";
import { adminFetch } from "./api";
import { Ago } from "./time";

export interface DeadRow {
  id: string;
  kind: string;
  job: { id: string; app: string; reason: string };
  error: string;
  attempts: number;
  failed_at: string;
  request_id: string | null;
}

/** Jobs that failed every delivery: what, why, when — and a retry for admins. */
export function DeadLetters({ rows, canWrite }: { rows: DeadRow[]; canWrite: boolean }) {
  const router = useRouter();
  const [busy, setBusy] = useState<string | null>(null);
  const [message, setMessage] = useState<{ tone: "ok" | "error"; text: string } | null>(null);

  async function retry(row: DeadRow) {
    setBusy(row.id);
    const result = await adminFetch(`/admin/api/jobs/dead/${row.id}/retry`, { method: "POST" });
    setBusy(null);
    setMessage(
      result.ok ? { tone: "ok", text: `Cleanup of ${row.job.id} queued again.` } : { tone: "error", text: result.error.message },
    );
    router.refresh();
  }

  return (
    <div className="space-y-4">
      {message && (
        <p
          role={message.tone === "error" ? "alert" : "status"}
          className={`rounded-md px-3 py-2 text-sm ${message.tone === "error" ? "bg-rose-50 text-rose-700" : "bg-emerald-50 text-emerald-800"}`}
        >
          {message.text}
        </p>
      )}
      {rows.length === 0 ? (
        <EmptyState title="No dead letters">Jobs that fail every retry are kept here for 14 days, with their error.</EmptyState>
      ) : (
        <Table label="Dead letters">
          <THead>
            <Th>Failed</Th>
            <Th>Job</Th>
            <Th>Instance</Th>
            <Th>Attempts</Th>
            <Th>Error</Th>
            <ThActions />
          </THead>
          <TBody>
            {rows.map((row) => (
              <tr key={row.id}>
                <Td className="whitespace-nowrap text-xs">
                  <Ago iso={row.failed_at} />
                </Td>
                <Td className="whitespace-nowrap text-xs">
                  {row.kind} · {row.job.reason}
                </Td>
                <Td className="font-mono text-xs">
                  {row.job.app}/{row.job.id}
                </Td>
                <Td>{row.attempts}</Td>
                <Td className="max-w-[22rem] break-words text-xs text-rose-700">{row.error}</Td>
                <Td>
                  {canWrite && (
                    <Button size="sm" variant="secondary" disabled={busy !== null} onClick={() => retry(row)}>
                      {busy === row.id ? "Retrying…" : "Retry"}
                      <span className="sr-only"> the cleanup of {row.job.id}</span>
                    </Button>
                  )}
                </Td>
              </tr>
            ))}
          </TBody>
        </Table>
      )}
    </div>
  );
}
