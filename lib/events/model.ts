import { z } from "zod";

/** Every step of the funnel (ARCHITECTURE.md, "Funnel analytics"); the analytics views read them from MariaDB. */
export const EVENT_TYPES = [
  "impression",
  "click",
  "acquired",
  "rejected",
  "visited",
  // Not a funnel step: a chunk of an instance's requests from the proxy's access log, applied to
  // its session (count, last request) by the writer; `visited` marks the step once.
  "requests",
  "extended",
  "released",
  "expired",
  "failed",
  "converted",
] as const;
export const EventType = z.enum(EVENT_TYPES);
export type EventType = z.infer<typeof EventType>;

/** One event as it travels on TRYIT_EVENTS and lands in `events`. */
export const AnalyticsEvent = z.object({
  /** Unique: the stream's message id and the table's primary key, so a redelivery is one row. */
  id: z.string().min(8).max(40),
  type: EventType,
  app: z.string().max(32),
  instance: z.string().max(20).nullable(),
  atMs: z.number(),
  request_id: z.string().max(128).nullable(),
  /** HMAC of the client address under a key rotated daily: counts visitors, never reveals them. */
  visitor: z.string().max(64).nullable(),
  /** Step details: a rejection's reason, an extension's minutes … */
  data: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).default({}),
});
export type AnalyticsEvent = z.infer<typeof AnalyticsEvent>;

/** What one message on the events stream carries: one event, or a batch of them. */
export const EventMessage = z.union([
  AnalyticsEvent.transform((event) => [event]),
  z.object({ events: z.array(AnalyticsEvent).max(1000) }).transform((batch) => batch.events),
]);
