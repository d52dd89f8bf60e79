"use client";

import { useRouter } from "next/navigation";
import { type FormEvent, useState } from "react";
import { Button } from "@/components/ui/button";
import { describedBy, Field, FieldNote, Input, Select, Textarea } from "@/components/ui/input";
import type { FormField } from "@/lib/app-spec";
import { adminFetch } from "./api";

type Values = Record<string, unknown>;

/** Fields whose values are code-like (references, paths, URLs): shown in a monospace font. */
const CODE_FIELDS = new Set(["image", "health_path", "admin_path", "cta_url", "egress_allow", "writable_paths"]);

const envToText = (env: unknown) =>
  Object.entries((env ?? {}) as Record<string, string>)
    .map(([name, value]) => `${name}=${value}`)
    .join("\n");

/**
 * Reads the form into the API's JSON; returns problems the browser can already see, by field. Env
 * values arrive masked and stay so: a line left as it was keeps its value (the server takes the
 * mask as "keep"), a removed line is sent as null (deleted).
 */
function collect(
  form: HTMLFormElement,
  fields: FormField[],
  shownEnv: string[],
): { body: Values; problems: Record<string, string> } {
  const data = new FormData(form);
  const body: Values = {};
  const problems: Record<string, string> = {};
  for (const field of fields) {
    if (field.fixed) continue;
    const raw = data.get(field.api);
    switch (field.input) {
      case "checkbox":
        body[field.api] = raw === "on";
        break;
      case "capabilities":
        body[field.api] = data.getAll(field.api).map(String);
        break;
      case "lines":
        body[field.api] = String(raw ?? "")
          .split("\n")
          .map((line) => line.trim())
          .filter(Boolean);
        break;
      case "number":
      case "decimal": {
        const text = String(raw ?? "").trim();
        if (!text) problems[field.api] = "required";
        else body[field.api] = Number(text);
        break;
      }
      case "limit": {
        const text = String(raw ?? "").trim();
        body[field.api] = text === "" ? null : Number(text);
        break;
      }
      case "env": {
        const env: Record<string, string> = {};
        for (const [index, line] of String(raw ?? "")
          .split("\n")
          .entries()) {
          if (!line.trim()) continue;
          const at = line.indexOf("=");
          if (at <= 0) {
            problems[field.api] = `line ${index + 1}: write NAME=value`;
            break;
          }
          env[line.slice(0, at).trim()] = line.slice(at + 1);
        }
        const patch: Record<string, string | null> = { ...env };
        for (const name of shownEnv) if (!(name in env)) patch[name] = null;
        body[field.api] = patch;
        break;
      }
      default:
        body[field.api] = String(raw ?? "");
    }
  }
  return { body, problems };
}

/**
 * Creates or edits an app with every field of the one field table (lib/app-spec.ts); the server
 * validates with the API's schema and each problem is shown beside its field.
 */
export function AppForm({
  fields,
  capabilities,
  values,
  slug,
  readOnly,
}: {
  fields: FormField[];
  capabilities: readonly string[];
  values: Values;
  /** Absent: a new app. */
  slug?: string;
  readOnly: boolean;
}) {
  const router = useRouter();
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<{ tone: "error" | "ok"; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const { body, problems } = collect(event.currentTarget, fields, Object.keys((values.env ?? {}) as Record<string, string>));
    const newSlug = slug ? undefined : String(new FormData(event.currentTarget).get("slug") ?? "").trim();
    if (!slug && !newSlug) problems.slug = "required";
    setErrors(problems);
    if (Object.keys(problems).length) {
      setMessage({ tone: "error", text: "Some fields need attention." });
      return;
    }
    setBusy(true);
    setMessage(null);
    const result = slug
      ? await adminFetch(`/admin/api/apps/${encodeURIComponent(slug)}`, { method: "PATCH", body })
      : await adminFetch("/admin/api/apps", { method: "POST", body: { ...body, slug: newSlug } });
    setBusy(false);
    if (!result.ok) {
      setErrors(result.error.fieldErrors);
      setMessage({ tone: "error", text: result.error.message });
      return;
    }
    if (!slug) {
      router.push(`/admin/apps/${encodeURIComponent(newSlug ?? "")}`);
      return;
    }
    setMessage({ tone: "ok", text: "Saved. The pool follows within seconds." });
    router.refresh();
  }

  const control = (field: FormField) => {
    const id = `field-${field.api}`;
    const error = errors[field.api];
    const common = {
      id,
      name: field.api,
      disabled: readOnly || field.fixed,
      "aria-invalid": error ? true : undefined,
      "aria-describedby": describedBy(id, error, field.help),
    };
    const value = values[field.api];
    switch (field.input) {
      case "checkbox":
        return (
          <div key={field.api} className="flex items-start gap-3">
            <input
              type="checkbox"
              {...common}
              defaultChecked={Boolean(value)}
              className="mt-1 h-4 w-4 rounded border-slate-300 text-indigo-600"
            />
            <div>
              <label htmlFor={id} className="text-sm font-medium text-slate-800">
                {field.label}
              </label>
              <FieldNote id={id} help={field.help} error={error} />
            </div>
          </div>
        );
      case "capabilities":
        return (
          <fieldset key={field.api} className="space-y-1" aria-describedby={describedBy(id, error, field.help)}>
            <legend className="text-sm font-medium text-slate-800">{field.label}</legend>
            <div className="grid grid-cols-2 gap-1 sm:grid-cols-3">
              {capabilities.map((cap) => (
                <label key={cap} className="flex items-center gap-2 text-xs text-slate-700">
                  <input
                    type="checkbox"
                    name={field.api}
                    value={cap}
                    disabled={readOnly}
                    defaultChecked={((value as string[]) ?? []).includes(cap)}
                    className="h-3.5 w-3.5 rounded border-slate-300"
                  />
                  <span className="font-mono">{cap}</span>
                </label>
              ))}
            </div>
            <FieldNote id={id} help={field.help} error={error} />
          </fieldset>
        );
      case "env":
        return (
          <Field key={field.api} id={id} label={field.label} help={field.help} error={error}>
            <Textarea {...common} rows={4} defaultValue={envToText(value)} spellCheck={false} />
          </Field>
        );
      case "lines":
        return (
          <Field key={field.api} id={id} label={field.label} help={field.help} error={error}>
            <Textarea
              {...common}
              rows={3}
              defaultValue={((value as string[]) ?? []).join("\n")}
              spellCheck={false}
              className="font-mono"
            />
          </Field>
        );
      case "select":
        return (
          <Field key={field.api} id={id} label={field.label} help={field.help} error={error}>
            <Select {...common} defaultValue={String(value ?? "")}>
              {(field.options ?? []).map((option) => (
                <option key={option.value} value={option.value}>
                  {option.label}
                </option>
              ))}
            </Select>
          </Field>
        );
      default:
        return (
          <Field key={field.api} id={id} label={field.label} help={field.help} error={error}>
            <Input
              {...common}
              type={field.input === "text" ? "text" : "number"}
              step={field.input === "decimal" ? "0.01" : field.input === "text" ? undefined : "1"}
              min={field.input === "text" ? undefined : 0}
              defaultValue={value === null || value === undefined ? "" : String(value)}
              className={CODE_FIELDS.has(field.api) ? "font-mono" : ""}
            />
          </Field>
        );
    }
  };

  const basic = fields.filter((field) => !field.advanced);
  const advanced = fields.filter((field) => field.advanced);
  return (
    // Keyed by the saved version: after a save the fields show the stored values again (env masked).
    <form key={String(values.updated_at ?? "new")} onSubmit={submit} noValidate className="space-y-6">
      <section className="grid gap-4 rounded-xl bg-white p-5 shadow-sm ring-1 ring-slate-200 sm:grid-cols-2">
        {!slug && (
          <Field
            id="field-slug"
            label="Slug"
            help="Lowercase letters, digits and dashes; the app's name in URLs and the API."
            error={errors.slug}
          >
            <Input
              id="field-slug"
              name="slug"
              required
              className="font-mono"
              aria-invalid={errors.slug ? true : undefined}
              aria-describedby={describedBy("field-slug", errors.slug, true)}
            />
          </Field>
        )}
        {basic.map(control)}
      </section>
      <details
        className="rounded-xl bg-white p-5 shadow-sm ring-1 ring-slate-200"
        open={advanced.some((field) => errors[field.api])}
      >
        <summary className="cursor-pointer text-sm font-semibold text-slate-800">
          Advanced: limits, environment, network, hardening
        </summary>
        <div className="mt-4 grid gap-4 sm:grid-cols-2">{advanced.map(control)}</div>
      </details>
      {message && (
        <p
          role={message.tone === "error" ? "alert" : "status"}
          className={`rounded-md px-3 py-2 text-sm ${message.tone === "error" ? "bg-rose-50 text-rose-700" : "bg-emerald-50 text-emerald-800"}`}
        >
          {message.text}
        </p>
      )}
      {!readOnly && (
        <Button type="submit" disabled={busy}>
          {busy ? "Saving…" : slug ? "Save changes" : "Create app"}
        </Button>
      )}
    </form>
  );
}
