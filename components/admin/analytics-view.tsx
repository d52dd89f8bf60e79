"use client";

import { useCallback, useEffect, useMemo, useState } from "react";
import {
  Bar,
  BarChart,
  CartesianGrid,
  Cell,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import { buttonClass } from "@/components/ui/button";
import { Input, Select } from "@/components/ui/input";
import { EmptyState, Table, TBody, Td, THead, Th } from "@/components/ui/table";
import type { Funnel, SeriesPoint } from "@/lib/events/funnel";
import { adminFetch } from "./api";

interface Source {
  name: string;
  impressions: number;
  clicks: number;
}
type Analytics = Funnel & {
  series: { bucket: "hour" | "day"; points: SeriesPoint[] };
  sources: { pages: Source[]; referrers: Source[] };
};

const PRESETS = [
  { id: "24h", label: "24 hours", ms: 86_400_000 },
  { id: "7d", label: "7 days", ms: 7 * 86_400_000 },
  { id: "30d", label: "30 days", ms: 30 * 86_400_000 },
  { id: "custom", label: "Custom", ms: 0 },
] as const;
type Preset = (typeof PRESETS)[number]["id"];

const STEP_LABELS: Record<string, string> = {
  impression: "Saw the button",
  click: "Clicked",
  acquired: "Got a demo",
  visited: "Opened it",
  extended: "Extended",
  converted: "Converted",
};
const REASON_LABELS: Record<string, string> = {
  exhausted: "pool empty",
  capped: "drain cap",
  challenge: "browser check",
  blocked: "blocked",
  rate_limited: "rate-limited",
  paused: "app paused",
};
const STEP_COLOR = "#4f46e5";
const SERIES = [
  { key: "acquired", name: "got a demo", color: "#4f46e5" },
  { key: "visited", name: "opened", color: "#059669" },
  { key: "converted", name: "converted", color: "#d97706" },
  { key: "rejected", name: "turned away", color: "#e11d48" },
] as const;

const percent = (part: number, whole: number) => (whole ? `${((part / whole) * 100).toFixed(1)} %` : "—");

/** A duration in seconds as a person reads it: 42 s, 3 min 5 s, 1 h 20 min. */
export function humanDuration(seconds: number | null): string {
  if (seconds === null) return "—";
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ""}`;
  return `${Math.floor(s / 3600)} h${Math.floor((s % 3600) / 60) ? ` ${Math.floor((s % 3600) / 60)} min` : ""}`;
}

/** A `datetime-local` value in the viewer's zone, and back. */
const toLocalInput = (ms: number) => {
  const date = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
};

function Card({ title, value, note }: { title: string; value: string; note?: string }) {
  return (
    <div className="rounded-xl bg-white p-4 shadow-sm ring-1 ring-slate-200">
      <p className="text-xs font-medium uppercase tracking-wide text-slate-500">{title}</p>
      <p className="mt-1 text-2xl font-semibold text-slate-900">{value}</p>
      {note && <p className="mt-1 text-xs text-slate-500">{note}</p>}
    </div>
  );
}

function SourceTable({ label, rows, empty }: { label: string; rows: Source[]; empty: string }) {
  if (!rows.length) return <p className="text-sm text-slate-500">{empty}</p>;
  return (
    <Table label={label}>
      <THead>
        <Th>{label}</Th>
        <Th className="text-right">Impressions</Th>
        <Th className="text-right">Clicks</Th>
      </THead>
      <TBody>
        {rows.map((row) => (
          <tr key={row.name}>
            <Td className="max-w-[16rem] truncate font-mono text-xs" title={row.name}>
              {row.name}
            </Td>
            <Td className="text-right tabular-nums">{row.impressions}</Td>
            <Td className="text-right tabular-nums">{row.clicks}</Td>
          </tr>
        ))}
      </TBody>
    </Table>
  );
}

/** The Analytics page: one app, one range; the funnel, turned-away visitors, session times, a time series, sources, CSV. */
export function AnalyticsView({ apps, initialApp }: { apps: string[]; initialApp: string | null }) {
  const [app, setApp] = useState(initialApp ?? "");
  const [preset, setPreset] = useState<Preset>("7d");
  const [custom, setCustom] = useState(() => ({ from: toLocalInput(Date.now() - 7 * 86_400_000), to: toLocalInput(Date.now()) }));
  const [data, setData] = useState<Analytics | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const tz = useMemo(() => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC", []);

  const query = useMemo(() => {
    let from: number;
    let to: number;
    if (preset === "custom") {
      from = new Date(custom.from).getTime();
      to = new Date(custom.to).getTime();
    } else {
      to = Date.now();
      from = to - PRESETS.find((p) => p.id === preset)!.ms;
    }
    if (!Number.isFinite(from) || !Number.isFinite(to)) return null;
    return new URLSearchParams({ app, from: new Date(from).toISOString(), to: new Date(to).toISOString(), tz }).toString();
  }, [app, preset, custom, tz]);

  const load = useCallback(async () => {
    if (!app || !query) return;
    setLoading(true);
    const result = await adminFetch<Analytics>(`/admin/api/analytics?${query}`, { method: "GET" });
    setLoading(false);
    if (result.ok) {
      setData(result.data);
      setError(null);
    } else setError(result.error.message);
  }, [app, query]);

  useEffect(() => {
    void load();
  }, [load]);

  if (!apps.length) {
    return (
      <EmptyState title="No apps yet">
        Create an app and embed its button; its funnel shows here as visitors arrive.{" "}
        <a className="text-indigo-700 underline" href="/admin/apps/new">
          Create an app
        </a>
      </EmptyState>
    );
  }

  const steps = data?.steps ?? [];
  const rejectedTotal = data ? Object.values(data.rejected).reduce((sum, n) => sum + n, 0) : 0;
  const nothing = data && steps.every((step) => step.count === 0) && rejectedTotal === 0;
  const funnelRows = steps.map((step) => ({ ...step, label: STEP_LABELS[step.name] ?? step.name }));

  return (
    <div className="space-y-6">
      <form
        className="flex flex-wrap items-end gap-3 rounded-xl bg-white p-4 shadow-sm ring-1 ring-slate-200"
        onSubmit={(event) => event.preventDefault()}
      >
        <div className="flex flex-col gap-1">
          <label htmlFor="analytics-app" className="text-sm font-medium text-slate-700">
            App
          </label>
          <Select id="analytics-app" value={app} onChange={(event) => setApp(event.target.value)} className="w-56 max-w-full">
            {apps.map((slug) => (
              <option key={slug} value={slug}>
                {slug}
              </option>
            ))}
          </Select>
        </div>
        <fieldset className="flex flex-col gap-1">
          <legend className="mb-1 text-sm font-medium text-slate-700">Range</legend>
          <div className="flex flex-wrap gap-1" role="radiogroup" aria-label="Range">
            {PRESETS.map((p) => (
              <label
                key={p.id}
                className={`${buttonClass(preset === p.id ? "primary" : "secondary", "sm")} cursor-pointer has-[:focus-visible]:ring-2 has-[:focus-visible]:ring-indigo-500`}
              >
                <input
                  type="radio"
                  name="range"
                  value={p.id}
                  checked={preset === p.id}
                  onChange={() => setPreset(p.id)}
                  className="sr-only"
                />
                {p.label}
              </label>
            ))}
          </div>
        </fieldset>
        {preset === "custom" && (
          <>
            <div className="flex flex-col gap-1">
              <label htmlFor="analytics-from" className="text-sm font-medium text-slate-700">
                From
              </label>
              <Input
                id="analytics-from"
                type="datetime-local"
                value={custom.from}
                onChange={(event) => setCustom((c) => ({ ...c, from: event.target.value }))}
              />
            </div>
            <div className="flex flex-col gap-1">
              <label htmlFor="analytics-to" className="text-sm font-medium text-slate-700">
                To
              </label>
              <Input
                id="analytics-to"
                type="datetime-local"
                value={custom.to}
                onChange={(event) => setCustom((c) => ({ ...c, to: event.target.value }))}
              />
            </div>
          </>
        )}
        <div className="flex flex-wrap gap-2 md:ml-auto">
          <button type="button" className={buttonClass("secondary", "sm")} onClick={() => void load()} disabled={loading}>
            {loading ? "Loading…" : "Refresh"}
          </button>
          {query && (
            <>
              <a className={buttonClass("secondary", "sm")} href={`/admin/api/analytics/export?kind=funnel&${query}`} download>
                Funnel CSV
              </a>
              <a className={buttonClass("secondary", "sm")} href={`/admin/api/analytics/export?kind=sessions&${query}`} download>
                Sessions CSV
              </a>
            </>
          )}
        </div>
        <p className="w-full text-xs text-slate-500">
          Times in {tz}; counts come from hourly totals, so a range starts at the beginning of its first hour.
        </p>
      </form>

      {error && (
        <p role="alert" className="rounded-md bg-rose-50 px-3 py-2 text-sm text-rose-800">
          The analytics could not be loaded: {error}
        </p>
      )}

      {nothing && (
        <EmptyState title="No visitors in this range">
          Embed the button (API keys → publishable key → copy the tag) or share the app&apos;s launch page; impressions, clicks
          and demos appear here within seconds.
        </EmptyState>
      )}

      {data && !nothing && (
        <>
          <div className="grid gap-4 lg:grid-cols-3">
            <section
              aria-labelledby="funnel-title"
              className="min-w-0 space-y-3 rounded-xl bg-white p-4 shadow-sm ring-1 ring-slate-200 lg:col-span-2"
            >
              <h2 id="funnel-title" className="font-semibold text-slate-900">
                Funnel
              </h2>
              <div className="h-56" aria-hidden="true">
                <ResponsiveContainer width="100%" height="100%">
                  <BarChart data={funnelRows} layout="vertical" margin={{ top: 0, right: 16, left: 8, bottom: 0 }}>
                    <CartesianGrid strokeDasharray="3 3" horizontal={false} />
                    <XAxis type="number" allowDecimals={false} tick={{ fontSize: 11 }} />
                    <YAxis type="category" dataKey="label" width={110} tick={{ fontSize: 12 }} />
                    <Tooltip />
                    <Bar dataKey="count" name="visitors" isAnimationActive={false}>
                      {funnelRows.map((row, index) => (
                        <Cell key={row.name} fill={STEP_COLOR} fillOpacity={1 - index * 0.12} />
                      ))}
                    </Bar>
                  </BarChart>
                </ResponsiveContainer>
              </div>
              <Table label="Funnel steps">
                <THead>
                  <Th>Step</Th>
                  <Th className="text-right">Count</Th>
                  <Th className="text-right">From previous</Th>
                  <Th className="text-right">Dropped</Th>
                </THead>
                <TBody>
                  {funnelRows.map((row, index) => {
                    const previous = index ? funnelRows[index - 1].count : null;
                    return (
                      <tr key={row.name} data-step={row.name}>
                        <Td>{row.label}</Td>
                        <Td className="text-right tabular-nums" data-testid={`count-${row.name}`}>
                          {row.count}
                        </Td>
                        <Td className="text-right tabular-nums">{previous === null ? "" : percent(row.count, previous)}</Td>
                        <Td className="text-right tabular-nums">{previous === null ? "" : Math.max(0, previous - row.count)}</Td>
                      </tr>
                    );
                  })}
                </TBody>
              </Table>
            </section>
            <section
              aria-labelledby="rejected-title"
              className="min-w-0 space-y-3 rounded-xl bg-white p-4 shadow-sm ring-1 ring-slate-200"
            >
              <h2 id="rejected-title" className="font-semibold text-slate-900">
                Turned away
              </h2>
              <p className="text-3xl font-semibold text-slate-900" data-testid="rejected-total">
                {rejectedTotal}
              </p>
              <ul className="space-y-1 text-sm">
                {Object.entries(data.rejected).map(([reason, count]) => (
                  <li key={reason} className="flex justify-between gap-2">
                    <span className="text-slate-600">{REASON_LABELS[reason] ?? reason}</span>
                    <span className="tabular-nums text-slate-900" data-testid={`rejected-${reason}`}>
                      {count}
                    </span>
                  </li>
                ))}
              </ul>
              {data.rejected.exhausted > 0 && (
                <p className="rounded-md bg-amber-50 px-3 py-2 text-xs text-amber-800">
                  {data.rejected.exhausted} visitor{data.rejected.exhausted === 1 ? "" : "s"} found the pool empty: a larger pool
                  target (or maximum) would have served them.
                </p>
              )}
            </section>
          </div>

          <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
            <Card title="Demos" value={String(data.sessions.count)} note="instances handed out in the range" />
            <Card
              title="Median session"
              value={humanDuration(data.sessions.median_seconds)}
              note={`p90 ${humanDuration(data.sessions.p90_seconds)} · ended sessions`}
            />
            <Card
              title="Median time to open"
              value={humanDuration(data.first_visit.median_seconds)}
              note={`p90 ${humanDuration(data.first_visit.p90_seconds)}`}
            />
            <Card
              title="Conversion"
              value={percent(
                steps.find((s) => s.name === "converted")?.count ?? 0,
                steps.find((s) => s.name === "acquired")?.count ?? 0,
              )}
              note="converted ÷ got a demo"
            />
          </div>

          <section
            aria-labelledby="series-title"
            className="min-w-0 space-y-2 rounded-xl bg-white p-4 shadow-sm ring-1 ring-slate-200"
          >
            <h2 id="series-title" className="font-semibold text-slate-900">
              Over time <span className="text-sm font-normal text-slate-500">(per {data.series.bucket})</span>
            </h2>
            <div className="h-64" aria-hidden="true">
              <ResponsiveContainer width="100%" height="100%">
                <LineChart data={data.series.points} margin={{ top: 8, right: 8, left: -16, bottom: 0 }}>
                  <CartesianGrid strokeDasharray="3 3" vertical={false} />
                  <XAxis dataKey="label" tick={{ fontSize: 11 }} minTickGap={24} />
                  <YAxis allowDecimals={false} tick={{ fontSize: 11 }} />
                  <Tooltip />
                  <Legend wrapperStyle={{ fontSize: 12 }} />
                  {SERIES.map((line) => (
                    <Line
                      key={line.key}
                      type="linear"
                      dataKey={line.key}
                      name={line.name}
                      stroke={line.color}
                      dot={false}
                      strokeWidth={2}
                      isAnimationActive={false}
                    />
                  ))}
                </LineChart>
              </ResponsiveContainer>
            </div>
          </section>

          <div className="grid gap-4 lg:grid-cols-2">
            {(
              [
                {
                  id: "pages",
                  title: "Top pages",
                  label: "Page",
                  rows: data.sources.pages,
                  empty: "No impressions from the embed in this range.",
                },
                {
                  id: "referrers",
                  title: "Top referrers",
                  label: "Referrer",
                  rows: data.sources.referrers,
                  empty: "No referrers recorded in this range.",
                },
              ] as const
            ).map((part) => (
              <section key={part.id} aria-labelledby={`${part.id}-title`} className="min-w-0 space-y-2">
                <h2 id={`${part.id}-title`} className="font-semibold text-slate-900">
                  {part.title}
                </h2>
                <SourceTable label={part.label} rows={part.rows} empty={part.empty} />
              </section>
            ))}
          </div>
        </>
      )}
    </div>
  );
}
