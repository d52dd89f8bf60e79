"use client";

import { useCallback, useEffect, useState } from "react";
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { Badge } from "@/components/ui/badge";
import { EmptyState, Table, TBody, Td, THead, Th } from "@/components/ui/table";
import type { Overview } from "@/lib/admin/overview";
import { adminFetch } from "./api";
import { RelativeTime } from "./time";

const POLL_MS = 2000;
const COLORS = {
  ok: "#4f46e5",
  exhausted: "#e11d48",
  capped: "#9333ea",
  challenge: "#0891b2",
  blocked: "#1f2937",
  rate_limited: "#d97706",
  paused: "#64748b",
  ready: "#059669",
  warming: "#f59e0b",
  assigned: "#4f46e5",
};

const clock = (ms: number) => new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

function PoolBar({ ready, warming, assigned, capacity }: { ready: number; warming: number; assigned: number; capacity: number }) {
  const total = Math.max(capacity, ready + warming + assigned, 1);
  const width = (n: number) => `${(n / total) * 100}%`;
  return (
    <div className="flex h-2.5 w-full overflow-hidden rounded-full bg-slate-100" aria-hidden="true">
      <div style={{ width: width(assigned), background: COLORS.assigned }} />
      <div style={{ width: width(ready), background: COLORS.ready }} />
      <div style={{ width: width(warming), background: COLORS.warming }} />
    </div>
  );
}

/** The overview's moving parts: pools, charts of the last hour, health, workers and failures, refreshed every 2 s. */
export function LiveOverview({ initial }: { initial: Overview }) {
  const [data, setData] = useState<Overview>(initial);
  const [stale, setStale] = useState<string | null>(null);
  const [now, setNow] = useState(() => Date.parse(initial.at));

  const load = useCallback(async () => {
    const result = await adminFetch<Overview>("/admin/api/overview", { method: "GET" });
    if (result.ok) {
      setData(result.data);
      setStale(null);
    } else setStale(result.error.message);
    setNow(Date.now());
  }, []);

  useEffect(() => {
    const timer = setInterval(load, POLL_MS);
    return () => clearInterval(timer);
  }, [load]);

  const { stats, health, workers, history, failures } = data;
  const minutes = history.minutes.map((minute, index) => ({
    minute: clock(minute),
    ok: history.total.ok[index],
    exhausted: history.total.exhausted[index],
    capped: history.total.capped[index],
    challenge: history.total.challenge[index],
    blocked: history.total.blocked[index],
    rate_limited: history.total.rate_limited[index],
    paused: history.total.paused[index],
    ready: history.total.ready[index],
    warming: history.total.warming[index],
    assigned: history.total.assigned[index],
  }));
  const acquiredLastHour = history.total.ok.reduce((sum, n) => sum + n, 0);
  const turnedAway = history.total.exhausted.reduce((sum, n) => sum + n, 0);
  const capped = history.total.capped.reduce((sum, n) => sum + n, 0);
  const challenged = history.total.challenge.reduce((sum, n) => sum + n, 0);
  const blocked = history.total.blocked.reduce((sum, n) => sum + n, 0);

  return (
    <div className="space-y-8">
      {stale && (
        <p role="alert" className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-800">
          Live numbers paused: {stale}
        </p>
      )}
      {health.status !== "ok" && <HealthBanner status={health.status} reasons={health.reasons} />}
      {capped > 0 && (
        <p role="status" className="rounded-md bg-purple-50 px-3 py-2 text-sm text-purple-900">
          A drain cap turned away {capped} demo request{capped === 1 ? "" : "s"} in the last hour: an app's “Demos per minute, all
          visitors” was reached. Raise it if this was real traffic.
        </p>
      )}
      {challenged + blocked > 0 && (
        <p role="status" className="rounded-md bg-cyan-50 px-3 py-2 text-sm text-cyan-900">
          In the last hour the browser check turned away {challenged} demo request{challenged === 1 ? "" : "s"}
          {blocked > 0 ? ` and the block list ${blocked}` : ""}: scripts without a proof of work, or replayed ones.
        </p>
      )}
      <section aria-labelledby="pools-title" className="space-y-3">
        <div className="flex flex-wrap items-baseline justify-between gap-2">
          <h2 id="pools-title" className="text-lg font-semibold text-slate-900">
            Pools
          </h2>
          <p className="text-xs text-slate-500" aria-live="polite">
            {stats.ready} ready · {stats.warming} warming · {stats.assigned} assigned of {stats.capacity} capacity
          </p>
        </div>
        {stats.apps.length === 0 ? (
          <EmptyState title="No apps yet — create one">
            <a href="/admin/apps/new" className="font-medium text-indigo-700 underline">
              Create an app
            </a>{" "}
            and its pool fills here.
          </EmptyState>
        ) : (
          <ul className="grid gap-3 sm:grid-cols-2 xl:grid-cols-3">
            {stats.apps.map((app) => (
              <li
                key={app.app}
                className="space-y-2 rounded-xl bg-white p-4 shadow-sm ring-1 ring-slate-200"
                data-testid={`pool-${app.app}`}
              >
                <div className="flex items-center justify-between gap-2">
                  <a
                    href={`/admin/apps/${app.app}`}
                    className="min-w-0 truncate font-mono text-sm font-medium text-indigo-700 hover:underline"
                  >
                    {app.app}
                  </a>
                  {app.consecutive_failures > 0 ? <Badge tone="red">failing</Badge> : <Badge tone="green">ok</Badge>}
                </div>
                <PoolBar ready={app.ready} warming={app.warming} assigned={app.assigned} capacity={app.capacity} />
                <dl className="grid grid-cols-4 gap-1 text-center text-xs">
                  {(
                    [
                      ["ready", app.ready],
                      ["warming", app.warming],
                      ["assigned", app.assigned],
                      ["target", app.target],
                    ] as const
                  ).map(([label, value]) => (
                    <div key={label}>
                      <dt className="text-slate-500">{label}</dt>
                      <dd className="text-base font-semibold text-slate-900" data-testid={`${app.app}-${label}`}>
                        {value}
                      </dd>
                    </div>
                  ))}
                </dl>
                {app.last_error && app.consecutive_failures > 0 && (
                  <p className="break-words text-xs text-rose-700">{app.last_error}</p>
                )}
              </li>
            ))}
          </ul>
        )}
      </section>

      <div className="grid gap-6 xl:grid-cols-2">
        <section aria-labelledby="acq-title" className="space-y-2 rounded-xl bg-white p-4 shadow-sm ring-1 ring-slate-200">
          <h2 id="acq-title" className="font-semibold text-slate-900">
            Demos started, last hour
          </h2>
          <p className="text-xs text-slate-500">
            {acquiredLastHour} started · {turnedAway} turned away because the pool was empty
          </p>
          <div
            className="h-56"
            role="img"
            aria-label={`Bar chart of demos per minute: ${acquiredLastHour} started, ${turnedAway} turned away`}
          >
            <ResponsiveContainer width="100%" height="100%">
              <BarChart data={minutes} margin={{ top: 8, right: 8, left: -16, bottom: 0 }}>
                <CartesianGrid strokeDasharray="3 3" vertical={false} />
                <XAxis dataKey="minute" tick={{ fontSize: 11 }} interval={14} />
                <YAxis allowDecimals={false} tick={{ fontSize: 11 }} />
                <Tooltip />
                <Legend wrapperStyle={{ fontSize: 12 }} />
                <Bar dataKey="ok" name="started" stackId="a" fill={COLORS.ok} isAnimationActive={false} />
                <Bar dataKey="exhausted" name="pool empty" stackId="a" fill={COLORS.exhausted} isAnimationActive={false} />
                <Bar dataKey="capped" name="drain cap" stackId="a" fill={COLORS.capped} isAnimationActive={false} />
                <Bar dataKey="challenge" name="browser check" stackId="a" fill={COLORS.challenge} isAnimationActive={false} />
                <Bar dataKey="blocked" name="blocked" stackId="a" fill={COLORS.blocked} isAnimationActive={false} />
                <Bar
                  dataKey="rate_limited"
                  name="rate-limited"
                  stackId="a"
                  fill={COLORS.rate_limited}
                  isAnimationActive={false}
                />
                <Bar dataKey="paused" name="paused" stackId="a" fill={COLORS.paused} isAnimationActive={false} />
              </BarChart>
            </ResponsiveContainer>
          </div>
        </section>
        <section aria-labelledby="levels-title" className="space-y-2 rounded-xl bg-white p-4 shadow-sm ring-1 ring-slate-200">
          <h2 id="levels-title" className="font-semibold text-slate-900">
            Pool levels, last hour
          </h2>
          <p className="text-xs text-slate-500">Instances per state across all apps, sampled by the workers (gaps: no sample).</p>
          <div className="h-56" role="img" aria-label="Stacked bar chart of ready, warming and assigned instances per minute">
            <ResponsiveContainer width="100%" height="100%">
              <BarChart data={minutes} margin={{ top: 8, right: 8, left: -16, bottom: 0 }} barCategoryGap={1}>
                <CartesianGrid strokeDasharray="3 3" vertical={false} />
                <XAxis dataKey="minute" tick={{ fontSize: 11 }} interval={14} />
                <YAxis allowDecimals={false} tick={{ fontSize: 11 }} />
                <Tooltip />
                <Legend wrapperStyle={{ fontSize: 12 }} />
                <Bar dataKey="assigned" stackId="l" fill={COLORS.assigned} isAnimationActive={false} />
                <Bar dataKey="ready" stackId="l" fill={COLORS.ready} isAnimationActive={false} />
                <Bar dataKey="warming" stackId="l" fill={COLORS.warming} isAnimationActive={false} />
              </BarChart>
            </ResponsiveContainer>
          </div>
        </section>
      </div>

      <div className="grid gap-6 xl:grid-cols-2">
        <section
          aria-labelledby="health-title"
          className="min-w-0 space-y-3 rounded-xl bg-white p-4 shadow-sm ring-1 ring-slate-200"
        >
          <h2 id="health-title" className="font-semibold text-slate-900">
            Health
          </h2>
          <ul className="grid grid-cols-2 gap-2 sm:grid-cols-3">
            {Object.entries(health.checks).map(([name, check]) => (
              <li key={name} className="flex items-center justify-between gap-2 rounded-md bg-slate-50 px-3 py-2 text-sm">
                <span className="font-medium">{name}</span>
                {check.ok ? <Badge tone="green">{check.latency_ms} ms</Badge> : <Badge tone="red">down</Badge>}
              </li>
            ))}
            <li className="flex items-center justify-between gap-2 rounded-md bg-slate-50 px-3 py-2 text-sm">
              <span className="font-medium">workers</span>
              <Badge tone={workers.length ? "green" : "red"}>{workers.length} alive</Badge>
            </li>
          </ul>
          {Object.entries(health.checks).some(([, check]) => !check.ok) && (
            <ul className="space-y-1 text-xs text-rose-700">
              {Object.entries(health.checks)
                .filter(([, check]) => !check.ok)
                .map(([name, check]) => (
                  <li key={name} className="break-words">
                    {name}: {check.error}
                  </li>
                ))}
            </ul>
          )}
        </section>
        <section aria-labelledby="failures-title" className="min-w-0 space-y-3">
          <h2 id="failures-title" className="font-semibold text-slate-900">
            Recent failures
          </h2>
          {failures.length === 0 ? (
            <EmptyState title="No failures recorded">Failed provisions, OOM kills and dead containers appear here.</EmptyState>
          ) : (
            <Table label="Recent failures">
              <THead>
                <Th>When</Th>
                <Th>App</Th>
                <Th>Reason</Th>
                <Th>Detail</Th>
              </THead>
              <TBody>
                {failures.map((failure) => (
                  <tr key={`${failure.at}-${failure.app}-${failure.instance ?? failure.reason}`}>
                    <Td className="whitespace-nowrap text-xs">
                      <RelativeTime iso={failure.at} now={now} />
                    </Td>
                    <Td className="font-mono text-xs">{failure.app}</Td>
                    <Td>
                      <Badge tone="red">{failure.reason}</Badge>
                    </Td>
                    <Td className="max-w-[18rem] break-words text-xs">{failure.error ?? failure.instance}</Td>
                  </tr>
                ))}
              </TBody>
            </Table>
          )}
        </section>
      </div>
    </div>
  );
}

const BANNER_TONES = {
  degraded: { box: "bg-amber-50 text-amber-900 ring-amber-300", title: "Degraded" },
  down: {
    box: "bg-rose-50 text-rose-900 ring-rose-300",
    title: "Down: /health answers 503, load balancers stop sending visitors here",
  },
  unhealthy: { box: "bg-rose-50 text-rose-900 ring-rose-300", title: "Unhealthy: Redis does not answer" },
} as const;

/** Why /health is not "ok" (ARCHITECTURE.md, "Supervision"), at the top of the overview. */
function HealthBanner({ status, reasons }: { status: Overview["health"]["status"]; reasons: Overview["health"]["reasons"] }) {
  const tone = BANNER_TONES[status as keyof typeof BANNER_TONES] ?? BANNER_TONES.degraded;
  return (
    <div role="alert" data-testid="health-banner" className={`space-y-1 rounded-lg px-4 py-3 text-sm ring-1 ${tone.box}`}>
      <p className="font-semibold">{tone.title}</p>
      <ul className="list-disc space-y-0.5 pl-5">
        {reasons.map((reason) => (
          <li key={`${reason.code}-${reason.message}`} className="break-words">
            {reason.message}
          </li>
        ))}
      </ul>
    </div>
  );
}
