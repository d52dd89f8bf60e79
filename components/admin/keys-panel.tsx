"use client";

import { useRouter } from "next/navigation";
import { type FormEvent, useState } from "react";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/dialog";
import { describedBy, Field, Input, Textarea } from "@/components/ui/input";
import { EmptyState, Table, TBody, Td, THead, Th, ThActions } from "@/components/ui/table";
import { adminFetch } from "./api";
import { Ago } from "./time";

export interface KeyRow {
  id: string;
  name: string;
  kind: "secret" | "publishable";
  prefix: string;
  scopes: string[];
  apps: string[] | null;
  allowed_origins: string[];
  acquire_rate: number | null;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

function CopyButton({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <Button
      size="sm"
      variant="secondary"
      onClick={async () => {
        await navigator.clipboard?.writeText(text).catch(() => undefined);
        setCopied(true);
        setTimeout(() => setCopied(false), 2000);
      }}
    >
      {copied ? "Copied" : label}
    </Button>
  );
}

/** API keys: list, create (the key shown exactly once), revoke with confirmation. */
export function KeysPanel({
  keys,
  apps,
  scopes,
  canWrite,
}: {
  keys: KeyRow[];
  apps: string[];
  scopes: readonly string[];
  canWrite: boolean;
}) {
  const router = useRouter();
  const [kind, setKind] = useState<"secret" | "publishable">("publishable");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | null>(null);
  const [created, setCreated] = useState<(KeyRow & { key: string; snippet: string | null }) | null>(null);
  const [revoking, setRevoking] = useState<KeyRow | null>(null);
  const [busy, setBusy] = useState(false);

  async function create(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const chosenApps = form.getAll("apps").map(String);
    const origins = String(form.get("allowed_origins") ?? "")
      .split(/[\s,]+/)
      .filter(Boolean);
    const rate = String(form.get("acquire_rate") ?? "").trim();
    const body =
      kind === "publishable"
        ? {
            name: String(form.get("name") ?? "").trim(),
            kind,
            apps: chosenApps,
            allowed_origins: origins,
            acquire_rate: rate ? Number(rate) : null,
          }
        : {
            name: String(form.get("name") ?? "").trim(),
            kind,
            scopes: form.getAll("scopes").map(String),
            ...(chosenApps.length ? { apps: chosenApps } : {}),
          };
    setBusy(true);
    setMessage(null);
    const result = await adminFetch<KeyRow & { key: string; snippet: string | null }>("/admin/api/keys", {
      method: "POST",
      body,
    });
    setBusy(false);
    if (!result.ok) {
      setErrors(result.error.fieldErrors);
      setMessage(result.error.message);
      return;
    }
    setErrors({});
    setCreated(result.data);
    (event.target as HTMLFormElement).reset();
    router.refresh();
  }

  async function revoke(key: KeyRow) {
    setBusy(true);
    const result = await adminFetch(`/admin/api/keys/${key.id}`, { method: "DELETE" });
    setBusy(false);
    setRevoking(null);
    if (!result.ok) setMessage(result.error.message);
    router.refresh();
  }

  const active = keys.filter((key) => !key.revoked_at);

  return (
    <div className="space-y-8">
      {created && (
        <section role="status" className="space-y-3 rounded-xl bg-emerald-50 p-5 ring-1 ring-emerald-200" data-testid="new-key">
          <h2 className="font-semibold text-emerald-900">
            Key “{created.name}” created — copy it now, it is shown only this once
          </h2>
          <div className="flex flex-wrap items-center gap-2">
            <code
              className="min-w-0 break-all rounded bg-white px-2 py-1 font-mono text-sm text-slate-900 ring-1 ring-emerald-200"
              data-testid="new-key-value"
            >
              {created.key}
            </code>
            <CopyButton text={created.key} label="Copy key" />
          </div>
          {created.snippet && (
            <div className="space-y-1 text-sm text-emerald-900">
              <p>Paste this where the button should appear (more apps: one element each, see the README):</p>
              <div className="flex flex-wrap items-start gap-2">
                <code
                  className="min-w-0 flex-1 break-all rounded bg-white px-2 py-1 font-mono text-xs text-slate-900 ring-1 ring-emerald-200"
                  data-testid="embed-snippet"
                >
                  {created.snippet}
                </code>
                <CopyButton text={created.snippet} label="Copy tag" />
              </div>
            </div>
          )}
          <Button size="sm" variant="ghost" onClick={() => setCreated(null)}>
            I have copied it
          </Button>
        </section>
      )}

      {active.filter((key) => key.kind === "publishable").length === 0 && (
        <EmptyState title="No publishable key — create one to put the button on your site">
          A publishable key may only start demos of its apps, from its allowed origins.
        </EmptyState>
      )}

      {keys.length > 0 && (
        <Table label="API keys">
          <THead>
            <Th>Name</Th>
            <Th>Kind</Th>
            <Th>Prefix</Th>
            <Th>Scopes</Th>
            <Th>Apps</Th>
            <Th>Origins</Th>
            <Th>Created</Th>
            <Th>Last used</Th>
            <ThActions />
          </THead>
          <TBody>
            {keys.map((key) => (
              <tr key={key.id} className={key.revoked_at ? "opacity-60" : ""}>
                <Td className="max-w-[12rem] truncate font-medium" title={key.name}>
                  {key.name}
                </Td>
                <Td>{key.kind === "publishable" ? <Badge tone="indigo">publishable</Badge> : <Badge>secret</Badge>}</Td>
                <Td className="font-mono text-xs">{key.prefix}…</Td>
                <Td className="text-xs">
                  {key.kind === "publishable"
                    ? `start demos${key.acquire_rate ? ` · at most ${key.acquire_rate}/min` : ""}`
                    : key.scopes.join(", ")}
                </Td>
                <Td className="max-w-[10rem] truncate text-xs">{key.apps?.join(", ") ?? "all"}</Td>
                <Td className="max-w-[12rem] truncate text-xs">{key.allowed_origins.join(", ") || "—"}</Td>
                <Td className="whitespace-nowrap text-xs">
                  <Ago iso={key.created_at} />
                </Td>
                <Td className="whitespace-nowrap text-xs">
                  <Ago iso={key.last_used_at} />
                </Td>
                <Td className="whitespace-nowrap">
                  {key.revoked_at ? (
                    <Badge tone="red">revoked</Badge>
                  ) : (
                    canWrite && (
                      <Button size="sm" variant="ghost" className="text-rose-700" onClick={() => setRevoking(key)}>
                        Revoke<span className="sr-only"> {key.name}</span>
                      </Button>
                    )
                  )}
                </Td>
              </tr>
            ))}
          </TBody>
        </Table>
      )}

      {canWrite && (
        <form onSubmit={create} noValidate className="space-y-4 rounded-xl bg-white p-5 shadow-sm ring-1 ring-slate-200">
          <h2 className="text-lg font-semibold text-slate-900">Create a key</h2>
          <fieldset className="flex flex-wrap gap-4">
            <legend className="sr-only">Kind</legend>
            {(["publishable", "secret"] as const).map((option) => (
              <label key={option} className="flex items-center gap-2 text-sm">
                <input type="radio" name="kind" value={option} checked={kind === option} onChange={() => setKind(option)} />
                {option === "publishable" ? "Publishable (for a web page: starts demos only)" : "Secret (server to server)"}
              </label>
            ))}
          </fieldset>
          <Field id="key-name" label="Name" error={errors.name} help="What it is for, e.g. “shop website”.">
            <Input
              id="key-name"
              name="name"
              aria-invalid={errors.name ? true : undefined}
              aria-describedby={describedBy("key-name", errors.name, true)}
            />
          </Field>
          {kind === "secret" && (
            <fieldset className="space-y-1">
              <legend className="text-sm font-medium text-slate-800">Scopes</legend>
              <div className="flex flex-wrap gap-3">
                {scopes.map((scope) => (
                  <label key={scope} className="flex items-center gap-2 text-sm">
                    <input type="checkbox" name="scopes" value={scope} defaultChecked={scope === "demo"} />
                    <span className="font-mono text-xs">{scope}</span>
                  </label>
                ))}
              </div>
              {errors.scopes && (
                <p role="alert" className="text-xs font-medium text-rose-700">
                  {errors.scopes}
                </p>
              )}
            </fieldset>
          )}
          <fieldset className="space-y-1">
            <legend className="text-sm font-medium text-slate-800">
              {kind === "publishable" ? "Apps it may start" : "Limit to apps (none: all)"}
            </legend>
            {apps.length === 0 ? (
              <p className="text-sm text-slate-500">No apps yet.</p>
            ) : (
              <div className="flex flex-wrap gap-3">
                {apps.map((app) => (
                  <label key={app} className="flex items-center gap-2 text-sm">
                    <input type="checkbox" name="apps" value={app} />
                    <span className="font-mono text-xs">{app}</span>
                  </label>
                ))}
              </div>
            )}
            {errors.apps && (
              <p role="alert" className="text-xs font-medium text-rose-700">
                {errors.apps}
              </p>
            )}
          </fieldset>
          {kind === "publishable" && (
            <Field
              id="key-origins"
              label="Allowed origins"
              error={errors.allowed_origins}
              help="The sites that may use it, one per line: https://shop.example.com"
            >
              <Textarea
                id="key-origins"
                name="allowed_origins"
                rows={2}
                aria-invalid={errors.allowed_origins ? true : undefined}
                aria-describedby={describedBy("key-origins", errors.allowed_origins, true)}
              />
            </Field>
          )}
          {kind === "publishable" && (
            <Field
              id="key-rate"
              label="Demos per minute from this key"
              error={errors.acquire_rate}
              help="Its own drain cap on each of its apps, whatever the app allows; empty: none."
            >
              <Input
                id="key-rate"
                name="acquire_rate"
                type="number"
                min={1}
                inputMode="numeric"
                className="max-w-40"
                aria-invalid={errors.acquire_rate ? true : undefined}
                aria-describedby={describedBy("key-rate", errors.acquire_rate, true)}
              />
            </Field>
          )}
          {message && (
            <p role="alert" className="rounded-md bg-rose-50 px-3 py-2 text-sm text-rose-700">
              {message}
            </p>
          )}
          <Button type="submit" disabled={busy}>
            {busy ? "Creating…" : "Create key"}
          </Button>
        </form>
      )}

      <ConfirmDialog
        open={revoking !== null}
        title={`Revoke “${revoking?.name ?? ""}”?`}
        confirmLabel="Revoke key"
        busy={busy}
        onCancel={() => setRevoking(null)}
        onConfirm={() => revoking && revoke(revoking)}
      >
        <p>
          Every call made with <span className="font-mono">{revoking?.prefix}…</span> is refused within seconds
          {revoking?.kind === "publishable" ? ", and the buttons that use it stop starting demos" : ""}. This cannot be undone.
        </p>
      </ConfirmDialog>
    </div>
  );
}
