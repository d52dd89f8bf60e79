"use client";

import { useRouter } from "next/navigation";
import { type FormEvent, useCallback, useEffect, useState } from "react";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/dialog";
import { describedBy, Field, Input, Select } from "@/components/ui/input";
import { EmptyState, Table, TBody, Td, THead, Th, ThActions } from "@/components/ui/table";
import { adminFetch } from "./api";

export interface BlockRowView {
  id: string;
  cidr: string;
  app: string | null;
  reason: string;
  created_by: string;
  created_at: string;
  expires_at: string;
}

export interface TrailRowView {
  instance: string;
  app: string;
  client_ip: string;
  assigned_at: string;
  ended_at: string | null;
}

const DURATIONS = [
  { value: "1h", label: "1 hour" },
  { value: "24h", label: "1 day" },
  { value: "7d", label: "7 days" },
  { value: "30d", label: "30 days" },
  { value: "365d", label: "1 year" },
];

const TRAIL_FILTERS = [
  { name: "ip", label: "Client address" },
  { name: "instance", label: "Instance" },
  { name: "app", label: "App" },
] as const;

const time = (iso: string) => new Date(iso).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" });

/** The block list: addresses and networks refused demos (per app or every app), until they expire. */
export function BlocksPanel({ blocks, apps, canWrite }: { blocks: BlockRowView[]; apps: string[]; canWrite: boolean }) {
  const router = useRouter();
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<{ tone: "error" | "ok"; text: string } | null>(null);
  const [lifting, setLifting] = useState<BlockRowView | null>(null);
  const [busy, setBusy] = useState(false);

  async function add(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const app = String(form.get("app") ?? "");
    const body = {
      cidr: String(form.get("cidr") ?? "").trim(),
      app: app || null,
      reason: String(form.get("reason") ?? "").trim(),
      expires_in: String(form.get("expires_in") ?? "7d"),
    };
    setBusy(true);
    const result = await adminFetch<BlockRowView>("/admin/api/blocks", { method: "POST", body });
    setBusy(false);
    if (!result.ok) {
      setErrors(result.error.fieldErrors);
      setMessage({ tone: "error", text: result.error.message });
      return;
    }
    setErrors({});
    setMessage({ tone: "ok", text: `${result.data.cidr} blocked until ${time(result.data.expires_at)}.` });
    (event.target as HTMLFormElement).reset();
    router.refresh();
  }

  async function lift(block: BlockRowView) {
    setBusy(true);
    const result = await adminFetch(`/admin/api/blocks/${block.id}`, { method: "DELETE" });
    setBusy(false);
    setLifting(null);
    setMessage(result.ok ? { tone: "ok", text: `${block.cidr} unblocked.` } : { tone: "error", text: result.error.message });
    router.refresh();
  }

  return (
    <section aria-labelledby="blocks-title" className="space-y-4">
      <h2 id="blocks-title" className="text-lg font-semibold text-slate-900">
        Block list
      </h2>
      {message && (
        <p
          role={message.tone === "error" ? "alert" : "status"}
          className={`rounded-md px-3 py-2 text-sm ${message.tone === "error" ? "bg-rose-50 text-rose-700" : "bg-emerald-50 text-emerald-800"}`}
        >
          {message.text}
        </p>
      )}
      {blocks.length === 0 ? (
        <EmptyState title="Nobody is blocked">
          A blocked address or network cannot start demos (of one app, or of all) until its block expires. Look an address up in
          the abuse trail below first.
        </EmptyState>
      ) : (
        <Table label="Blocked addresses">
          <THead>
            <Th>Address or network</Th>
            <Th>App</Th>
            <Th>Reason</Th>
            <Th>By</Th>
            <Th>Until</Th>
            {canWrite && <ThActions />}
          </THead>
          <TBody>
            {blocks.map((block) => (
              <tr key={block.id}>
                <Td className="font-mono text-xs">{block.cidr}</Td>
                <Td className="text-xs">
                  {block.app ? <span className="font-mono">{block.app}</span> : <Badge tone="red">every app</Badge>}
                </Td>
                <Td className="max-w-[16rem] truncate text-xs" title={block.reason}>
                  {block.reason || "—"}
                </Td>
                <Td className="max-w-[10rem] truncate text-xs" title={block.created_by}>
                  {block.created_by}
                </Td>
                <Td className="whitespace-nowrap text-xs">{time(block.expires_at)}</Td>
                {canWrite && (
                  <Td className="whitespace-nowrap text-right">
                    <Button size="sm" variant="secondary" aria-label={`Unblock ${block.cidr}`} onClick={() => setLifting(block)}>
                      Unblock
                    </Button>
                  </Td>
                )}
              </tr>
            ))}
          </TBody>
        </Table>
      )}
      {canWrite && (
        <form
          onSubmit={add}
          noValidate
          className="grid max-w-3xl gap-4 rounded-xl bg-white p-5 ring-1 ring-slate-200 sm:grid-cols-2"
        >
          <h3 className="font-semibold text-slate-900 sm:col-span-2">Block an address</h3>
          <Field
            id="block-cidr"
            label="Address or network"
            error={errors.cidr}
            help="203.0.113.7, 203.0.113.0/24 or 2001:db8::/48"
          >
            <Input
              id="block-cidr"
              name="cidr"
              required
              autoComplete="off"
              spellCheck={false}
              className="font-mono"
              aria-invalid={errors.cidr ? true : undefined}
              aria-describedby={describedBy("block-cidr", errors.cidr, true)}
            />
          </Field>
          <Field id="block-app" label="App" error={errors.app}>
            <Select id="block-app" name="app" defaultValue="">
              <option value="">Every app</option>
              {apps.map((app) => (
                <option key={app} value={app}>
                  {app}
                </option>
              ))}
            </Select>
          </Field>
          <Field id="block-reason" label="Reason" error={errors.reason} help="For the audit log and your colleagues.">
            <Input
              id="block-reason"
              name="reason"
              maxLength={500}
              aria-describedby={describedBy("block-reason", errors.reason, true)}
            />
          </Field>
          <Field id="block-expires" label="For" error={errors.expires_in}>
            <Select id="block-expires" name="expires_in" defaultValue="7d">
              {DURATIONS.map((duration) => (
                <option key={duration.value} value={duration.value}>
                  {duration.label}
                </option>
              ))}
            </Select>
          </Field>
          <div className="sm:col-span-2">
            <Button type="submit" disabled={busy}>
              {busy ? "Blocking…" : "Block"}
            </Button>
          </div>
        </form>
      )}
      <ConfirmDialog
        open={lifting !== null}
        title={`Unblock ${lifting?.cidr ?? ""}?`}
        confirmLabel="Unblock"
        busy={busy}
        onCancel={() => setLifting(null)}
        onConfirm={() => lifting && lift(lifting)}
      >
        <p>Demos can be started from it again at once.</p>
      </ConfirmDialog>
    </section>
  );
}

/** The abuse trail (admins only): which address held which demo, from when to when. */
export function TrailPanel({ initial }: { initial: { instance?: string; ip?: string; app?: string } }) {
  const [rows, setRows] = useState<TrailRowView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const run = useCallback(async (query: URLSearchParams) => {
    setBusy(true);
    const result = await adminFetch<{ trail: TrailRowView[] }>(`/admin/api/trail?${query}`, { method: "GET" });
    setBusy(false);
    if (!result.ok) {
      setError(result.error.message);
      setRows(null);
      return;
    }
    setError(null);
    setRows(result.data.trail);
  }, []);

  // Opened from an instance ("who held it"): its trail at once.
  const { instance, ip, app } = initial;
  useEffect(() => {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries({ instance, ip, app })) if (value) query.set(name, value);
    if (query.size) void run(query);
  }, [instance, ip, app, run]);

  function search(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const query = new URLSearchParams();
    for (const { name } of TRAIL_FILTERS) {
      const value = String(form.get(name) ?? "").trim();
      if (value) query.set(name, value);
    }
    const at = String(form.get("at") ?? "");
    if (at) query.set("at", new Date(at).toISOString());
    void run(query);
  }

  return (
    <section aria-labelledby="trail-title" className="space-y-4">
      <div>
        <h2 id="trail-title" className="text-lg font-semibold text-slate-900">
          Abuse trail
        </h2>
        <p className="text-sm text-slate-600">
          Which client address held which demo, from when to when — the one place raw addresses are kept, for the retention period
          only. Leave a field empty to search all.
        </p>
      </div>
      <form onSubmit={search} className="grid max-w-4xl gap-4 rounded-xl bg-white p-5 ring-1 ring-slate-200 sm:grid-cols-4">
        {TRAIL_FILTERS.map(({ name, label }) => (
          <Field key={name} id={`trail-${name}`} label={label}>
            <Input
              id={`trail-${name}`}
              name={name}
              defaultValue={initial[name]}
              className="font-mono"
              spellCheck={false}
              autoComplete="off"
            />
          </Field>
        ))}
        <Field id="trail-at" label="Held at">
          <Input id="trail-at" name="at" type="datetime-local" />
        </Field>
        <div className="sm:col-span-4">
          <Button type="submit" disabled={busy}>
            {busy ? "Searching…" : "Search"}
          </Button>
        </div>
      </form>
      {error && (
        <p role="alert" className="rounded-md bg-rose-50 px-3 py-2 text-sm text-rose-700">
          {error}
        </p>
      )}
      {rows && rows.length === 0 && (
        <EmptyState title="No demo matches">Nobody held a demo that matches this search in the retention period.</EmptyState>
      )}
      {rows && rows.length > 0 && (
        <Table label="Abuse trail">
          <THead>
            <Th>Client address</Th>
            <Th>Instance</Th>
            <Th>App</Th>
            <Th>From</Th>
            <Th>To</Th>
          </THead>
          <TBody>
            {rows.map((row) => (
              <tr key={row.instance}>
                <Td className="font-mono text-xs">{row.client_ip}</Td>
                <Td className="font-mono text-xs">{row.instance}</Td>
                <Td className="max-w-[10rem] truncate font-mono text-xs" title={row.app}>
                  {row.app}
                </Td>
                <Td className="whitespace-nowrap text-xs">{time(row.assigned_at)}</Td>
                <Td className="whitespace-nowrap text-xs">
                  {row.ended_at ? time(row.ended_at) : <Badge tone="green">running</Badge>}
                </Td>
              </tr>
            ))}
          </TBody>
        </Table>
      )}
    </section>
  );
}
