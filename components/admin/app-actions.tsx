"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/dialog";
import { adminFetch } from "./api";

/** Pause / resume and delete of one app; each states what it does to visitors before it happens. */
export function AppActions({ slug, paused, assigned }: { slug: string; paused: boolean; assigned: number }) {
  const router = useRouter();
  const [confirm, setConfirm] = useState<"delete" | "pause" | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function run(method: string, body?: unknown) {
    setBusy(true);
    setError(null);
    const result = await adminFetch(`/admin/api/apps/${encodeURIComponent(slug)}`, { method, body });
    setBusy(false);
    setConfirm(null);
    if (!result.ok) {
      setError(result.error.message);
      return false;
    }
    return true;
  }

  return (
    <div className="flex flex-wrap items-center gap-2">
      {paused ? (
        <Button
          variant="secondary"
          disabled={busy}
          onClick={async () => (await run("PATCH", { paused: false })) && router.refresh()}
        >
          Resume
        </Button>
      ) : (
        <Button variant="secondary" disabled={busy} onClick={() => setConfirm("pause")}>
          Pause
        </Button>
      )}
      <Button variant="danger" disabled={busy} onClick={() => setConfirm("delete")}>
        Delete app
      </Button>
      {error && (
        <p role="alert" className="basis-full text-sm text-rose-700">
          {error}
        </p>
      )}
      <ConfirmDialog
        open={confirm === "pause"}
        title={`Pause ${slug}?`}
        confirmLabel="Pause app"
        variant="primary"
        busy={busy}
        onCancel={() => setConfirm(null)}
        onConfirm={async () => (await run("PATCH", { paused: true })) && router.refresh()}
      >
        <p>
          New visitors are told the demo is paused. The pool stays warm, and the {assigned} demo(s) running now go on until they
          end.
        </p>
      </ConfirmDialog>
      <ConfirmDialog
        open={confirm === "delete"}
        title={`Delete ${slug}?`}
        confirmLabel="Delete app and end its demos"
        busy={busy}
        onCancel={() => setConfirm(null)}
        onConfirm={async () => {
          if (await run("DELETE")) {
            router.push("/admin/apps");
            router.refresh();
          }
        }}
      >
        <p>
          The {assigned} demo(s) running now end at once: their visitors lose them, and every container and route of this app is
          removed. Visitors can no longer start it. This cannot be undone.
        </p>
      </ConfirmDialog>
    </div>
  );
}
