"use client";

import { useCallback, useEffect, useState } from "react";

type Instance = { id: string; url: string; admin_url: string; expires_at: string; ttl_seconds: number; token: string };
type Phase =
  | { kind: "idle" }
  | { kind: "acquiring" }
  | { kind: "running"; instance: Instance; ttl: number }
  | { kind: "ended"; reason: string }
  | { kind: "error"; message: string; retryAfter?: number };

function formatTtl(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return `${m}:${String(s).padStart(2, "0")}`;
}

/**
 * The visitor's side: launch an instance, open it, watch its countdown, extend or end it. With a
 * publishable key (`/try/<app>?key=tin_pk_…`), every call carries it, and calls about the instance
 * carry the instance token the acquire answer gave.
 */
export function LaunchPanel({ app, publishableKey }: { app: string; publishableKey?: string }) {
  const [phase, setPhase] = useState<Phase>({ kind: "idle" });
  const keyHeaders: Record<string, string> = publishableKey ? { "X-API-Key": publishableKey } : {};

  const launch = useCallback(async () => {
    setPhase({ kind: "acquiring" });
    const response = await fetch("/api/v1/demo/acquire", {
      method: "POST",
      headers: { "content-type": "application/json", ...(publishableKey ? { "X-API-Key": publishableKey } : {}) },
      body: JSON.stringify({ app }),
    });
    const body = await response.json();
    if (!response.ok) {
      setPhase({
        kind: "error",
        message: body.error ?? "could not start a demo",
        retryAfter: Number(response.headers.get("retry-after")) || undefined,
      });
      return;
    }
    setPhase({ kind: "running", instance: body, ttl: body.ttl_seconds });
  }, [app, publishableKey]);

  const running = phase.kind === "running" ? phase.instance : null;
  const runningId = running?.id;
  const runningToken = running?.token;
  useEffect(() => {
    if (!runningId || !runningToken) return;
    const query = new URLSearchParams({ token: runningToken, ...(publishableKey ? { key: publishableKey } : {}) });
    const source = new EventSource(`/api/v1/demo/${runningId}/status?${query}`);
    source.addEventListener("ttl", (event) => {
      const data = JSON.parse((event as MessageEvent).data);
      setPhase((current) => (current.kind === "running" ? { ...current, ttl: data.ttl_remaining } : current));
    });
    source.addEventListener("expired", () => {
      source.close();
      setPhase((current) => (current.kind === "running" ? { kind: "ended", reason: "Your demo has ended." } : current));
    });
    return () => source.close();
  }, [runningId, runningToken, publishableKey]);

  const instanceHeaders = (instance: Instance) => ({ ...keyHeaders, "X-Instance-Token": instance.token });

  const extend = async () => {
    if (phase.kind !== "running") return;
    const response = await fetch(`/api/v1/demo/${phase.instance.id}/extend`, {
      method: "POST",
      headers: { "content-type": "application/json", ...instanceHeaders(phase.instance) },
      body: JSON.stringify({ minutes: 10 }),
    });
    if (!response.ok) {
      const body = await response.json();
      setPhase((current) => (current.kind === "running" ? current : { kind: "error", message: body.error }));
    }
  };

  const end = async () => {
    if (phase.kind !== "running") return;
    const { instance } = phase;
    setPhase({ kind: "ended", reason: "You ended the demo." }); // closes the status stream first
    await fetch(`/api/v1/demo/${instance.id}`, { method: "DELETE", headers: instanceHeaders(instance) });
  };

  const button =
    "rounded-md px-4 py-2 font-medium focus:outline-none focus-visible:ring-2 focus-visible:ring-offset-2 focus-visible:ring-indigo-500";

  return (
    <section className="rounded-xl bg-white p-6 shadow-sm ring-1 ring-slate-200" aria-live="polite">
      {phase.kind === "idle" && (
        <button type="button" className={`${button} bg-indigo-600 text-white hover:bg-indigo-500`} onClick={launch}>
          Try it now
        </button>
      )}
      {phase.kind === "acquiring" && <p>Starting your private copy…</p>}
      {phase.kind === "running" && (
        <div className="space-y-4">
          <p>
            Your copy is running at{" "}
            <a
              className="font-mono text-indigo-700 underline"
              href={phase.instance.url}
              target="_blank"
              rel="noreferrer"
              data-testid="instance-url"
            >
              {phase.instance.url}
            </a>
          </p>
          <p>
            Time left:{" "}
            <span className="font-mono" data-testid="ttl">
              {formatTtl(phase.ttl)}
            </span>
          </p>
          <div className="flex gap-3">
            <button type="button" className={`${button} bg-slate-100 hover:bg-slate-200`} onClick={extend}>
              Add 10 minutes
            </button>
            <button type="button" className={`${button} bg-rose-50 text-rose-700 hover:bg-rose-100`} onClick={end}>
              End demo
            </button>
          </div>
        </div>
      )}
      {phase.kind === "ended" && (
        <div className="space-y-3">
          <p>{phase.reason}</p>
          <button type="button" className={`${button} bg-indigo-600 text-white`} onClick={() => setPhase({ kind: "idle" })}>
            Start another
          </button>
        </div>
      )}
      {phase.kind === "error" && (
        <div className="space-y-3" role="alert">
          <p className="text-rose-700">
            {phase.message}
            {phase.retryAfter ? ` (try again in ${phase.retryAfter} s)` : ""}
          </p>
          <button type="button" className={`${button} bg-slate-100`} onClick={() => setPhase({ kind: "idle" })}>
            Back
          </button>
        </div>
      )}
    </section>
  );
}
