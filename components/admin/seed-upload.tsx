"use client";

import { useRouter } from "next/navigation";
import { useId, useRef, useState } from "react";
import { Button } from "@/components/ui/button";
import { adminFetch } from "./api";

/**
 * Upload of an app's database seed (a SQL dump): sent as the request's body to the dashboard's seed
 * route, which stores it and makes it the app's seed (ARCHITECTURE.md, "Demo databases").
 */
export function SeedUpload({ slug, limitMb }: { slug: string; limitMb: number }) {
  const router = useRouter();
  const input = useRef<HTMLInputElement>(null);
  const inputId = useId();
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);

  async function upload() {
    if (!file) return;
    setError(null);
    setDone(null);
    if (file.size > limitMb * 1024 * 1024) {
      setError(`${file.name} is ${(file.size / 1024 / 1024).toFixed(1)} MB; a seed may be at most ${limitMb} MB`);
      return;
    }
    setBusy(true);
    const result = await adminFetch<{ seed: { name: string; bytes: number } }>(
      `/admin/api/apps/${encodeURIComponent(slug)}/seed`,
      { method: "POST", raw: file },
    );
    setBusy(false);
    if (!result.ok) {
      setError(result.error.message);
      return;
    }
    setDone(`Uploaded as ${result.data.seed.name}: new instances are cloned from it.`);
    setFile(null);
    if (input.current) input.current.value = "";
    router.refresh();
  }

  return (
    <div className="space-y-2">
      <label htmlFor={inputId} className="block text-sm font-medium text-slate-800">
        Upload a seed (a .sql dump, at most {limitMb} MB)
      </label>
      <div className="flex flex-wrap items-center gap-2">
        <input
          ref={input}
          id={inputId}
          type="file"
          accept=".sql,application/sql,text/plain"
          disabled={busy}
          onChange={(event) => setFile(event.target.files?.[0] ?? null)}
          className="max-w-full text-sm text-slate-700 file:mr-3 file:rounded-md file:border-0 file:bg-slate-100 file:px-3 file:py-2 file:text-sm file:font-medium file:text-slate-800 hover:file:bg-slate-200"
        />
        <Button onClick={upload} disabled={!file || busy}>
          {busy ? "Uploading…" : "Upload seed"}
        </Button>
      </div>
      {error && (
        <p role="alert" className="break-words text-sm text-rose-700">
          {error}
        </p>
      )}
      {done && (
        <p role="status" className="break-words text-sm text-emerald-700">
          {done}
        </p>
      )}
    </div>
  );
}
