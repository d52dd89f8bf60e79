/**
 * Payloads that cross processes through Redis, each parsed with zod where it is read: a malformed
 * one is dropped (and logged by the reader), never trusted and never fatal.
 */
import { z } from "zod";

/** Published on the events channel by the scripts (cjson) and read by every web's SSE hub. */
export const InstanceEvent = z.discriminatedUnion("type", [
  z.object({ type: z.literal("extended"), id: z.string(), expires_at: z.number() }),
  z.object({ type: z.enum(["released", "expired"]), id: z.string() }),
]);
export type InstanceEvent = z.infer<typeof InstanceEvent>;

/** A failure the worker handled, for the dashboard's overview. */
export const FailureEntry = z.object({
  at: z.number(),
  app: z.string(),
  instance: z.string().nullable(),
  reason: z.enum(["provision", "oom", "die", "lost"]),
  error: z.string().nullable(),
});
export type FailureEntry = z.infer<typeof FailureEntry>;

/** prom-client's JSON of one metric (`getMetricsAsJSON`), as far as merging needs it. */
const MetricJson = z.looseObject({
  name: z.string(),
  help: z.string(),
  type: z.string(),
  aggregator: z.string(),
  values: z.array(
    z.looseObject({
      value: z.number(),
      labels: z.record(z.string(), z.union([z.string(), z.number()])),
      metricName: z.string().optional(),
    }),
  ),
});

/** A worker's metrics, stored for the web's /metrics. */
export const MetricsSnapshot = z.object({ atMs: z.number(), metrics: z.array(MetricJson) });
export type MetricsSnapshot = z.infer<typeof MetricsSnapshot>;

/** Parses JSON text against a schema; undefined for bad JSON or a wrong shape. */
export function parseJson<S extends z.ZodType>(schema: S, text: string): z.infer<S> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/** One worker loop as the worker's heartbeat reports it (worker/loop.ts). */
export const LoopReport = z.object({
  every_ms: z.number(),
  /** When it last completed a run (or, for a long-running consumer, made progress); null: not yet. */
  done_at_ms: z.number().nullable(),
  failing_since_ms: z.number().nullable(),
  error: z.string().nullable(),
});
export type LoopReport = z.infer<typeof LoopReport>;

/** What a worker tells every web process, about every second (ARCHITECTURE.md, "Supervision"). */
export const WorkerHeartbeat = z.object({
  id: z.string(),
  pid: z.number(),
  host: z.string(),
  started_at_ms: z.number(),
  at_ms: z.number(),
  /** `starting` while it waits for its dependencies; `stopped` once it exited cleanly. */
  phase: z.enum(["starting", "running", "stopped"]),
  waiting_for: z.string().nullable(),
  loops: z.record(z.string(), LoopReport),
  /** The container runtime as this worker last found it (the web holds no Docker socket). */
  runtime: z
    .object({
      ok: z.boolean(),
      latency_ms: z.number(),
      error: z.string().nullable(),
      live_restore: z.boolean(),
      at_ms: z.number(),
    })
    .nullable(),
  /** Apps whose replenish is backing off after failed provisions. */
  backoff: z.array(z.object({ app: z.string(), failures: z.number(), until_ms: z.number(), error: z.string().nullable() })),
});
export type WorkerHeartbeat = z.infer<typeof WorkerHeartbeat>;

/** A process the supervisor stopped restarting (lib/supervise/supervisor.ts). */
export const GivenUp = z.object({ at_ms: z.number(), starts: z.number(), last_exit: z.string(), log: z.string().nullable() });
export type GivenUp = z.infer<typeof GivenUp>;
