"use client";

import Link from "next/link";
import { useCallback, useEffect, useState } from "react";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/dialog";
import { EmptyState, Table, TBody, Td, THead, Th, ThActions } from "@/components/ui/table";
import { adminFetch } from "./api";
import { formatDuration, RelativeTime } from "./time";

interface Instance {
  id: string;
  url: string;
  assigned_at: string;
  expires_at: string;
  client: string;
  extensions: number;
}
interface Listing {
  ready: number;
  warming: number;
  assigned: number;
  instances: Instance[];
}

/** An app's running demos, refreshed every 2 s, their time left ticking every second. */
export function InstancesPanel({ slug, canWrite }: { slug: string; canWrite: boolean }) {
  const [listing, setListing] = useState<Listing | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [now, setNow] = useState(() => Date.now());
  const [terminating, setTerminating] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    const result = await adminFetch<Listing>(`/admin/api/apps/${encodeURIComponent(slug)}/instances`, { method: "GET" });
    if (result.ok) {
      setListing(result.data);
      setError(null);
    } else setError(result.error.message);
  }, [slug]);

  useEffect(() => {
    void load();
    const poll = setInterval(load, 2000);
    const tick = setInterval(() => setNow(Date.now()), 1000);
    return () => {
      clearInterval(poll);
      clearInterval(tick);
    };
  }, [load]);

  async function act(path: string, method: string, body?: unknown) {
    setBusy(true);
    const result = await adminFetch(path, { method, body });
    setBusy(false);
    if (!result.ok) setError(result.error.message);
    await load();
  }

  return (
    <section aria-labelledby="instances-title" className="space-y-3">
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h2 id="instances-title" className="text-lg font-semibold text-slate-900">
          Running demos
        </h2>
        <p className="text-sm text-slate-600" data-testid="pool-counts">
          {listing ? `${listing.ready} ready · ${listing.warming} warming · ${listing.assigned} assigned` : "loading…"}
        </p>
      </div>
      {error && (
        <p role="alert" className="rounded-md bg-rose-50 px-3 py-2 text-sm text-rose-700">
          {error}
        </p>
      )}
      {listing && listing.instances.length === 0 ? (
        <EmptyState title="No visitor is running a demo right now">Demos appear here while visitors use them.</EmptyState>
      ) : (
        listing && (
          <Table label="Running demos">
            <THead>
              <Th>Instance</Th>
              <Th>Started</Th>
              <Th>Time left</Th>
              <Th>Client</Th>
              <Th>Extended</Th>
              <ThActions />
            </THead>
            <TBody>
              {listing.instances.map((instance) => (
                <tr key={instance.id}>
                  <Td className="font-mono text-xs">{instance.id}</Td>
                  <Td className="whitespace-nowrap">
                    <RelativeTime iso={instance.assigned_at} now={now} />
                  </Td>
                  <Td className="whitespace-nowrap font-mono" data-testid="ttl-left">
                    {formatDuration(Math.max(0, Math.floor((Date.parse(instance.expires_at) - now) / 1000)))}
                  </Td>
                  <Td className="whitespace-nowrap font-mono text-xs">
                    {instance.client}
                    {canWrite && (
                      <Link
                        href={`/admin/abuse?instance=${instance.id}`}
                        className="ml-2 font-sans text-indigo-700 underline-offset-2 hover:underline focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
                      >
                        who<span className="sr-only"> held {instance.id}</span>
                      </Link>
                    )}
                  </Td>
                  <Td>{instance.extensions}×</Td>
                  <Td className="whitespace-nowrap">
                    <div className="flex gap-1">
                      <a
                        href={instance.url}
                        target="_blank"
                        rel="noreferrer"
                        className="rounded px-2 py-1 text-sm text-indigo-700 hover:bg-indigo-50"
                      >
                        Open<span className="sr-only"> {instance.id}</span>
                      </a>
                      {canWrite && (
                        <>
                          <Button
                            size="sm"
                            variant="ghost"
                            disabled={busy}
                            onClick={() => act(`/admin/api/instances/${instance.id}/extend`, "POST", { minutes: 10 })}
                          >
                            +10 min<span className="sr-only"> for {instance.id}</span>
                          </Button>
                          <Button
                            size="sm"
                            variant="ghost"
                            className="text-rose-700"
                            disabled={busy}
                            onClick={() => setTerminating(instance.id)}
                          >
                            Terminate<span className="sr-only"> {instance.id}</span>
                          </Button>
                        </>
                      )}
                    </div>
                  </Td>
                </tr>
              ))}
            </TBody>
          </Table>
        )
      )}
      <ConfirmDialog
        open={terminating !== null}
        title="Terminate this demo?"
        confirmLabel="Terminate demo"
        busy={busy}
        onCancel={() => setTerminating(null)}
        onConfirm={async () => {
          const id = terminating;
          setTerminating(null);
          if (id) await act(`/admin/api/instances/${id}`, "DELETE");
        }}
      >
        <p>
          The visitor using <span className="font-mono">{terminating}</span> loses it now: its URL stops answering and its
          container is removed.
        </p>
      </ConfirmDialog>
    </section>
  );
}
