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
