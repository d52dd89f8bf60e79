import { index, int, json, mysqlTable, primaryKey, timestamp, varchar } from "drizzle-orm/mysql-core";

/** Funnel events, one row per event id (a redelivered event is ignored), written in batches by the worker. */
export const events = mysqlTable(
  "events",
  {
    id: varchar("id", { length: 40 }).primaryKey(),
    type: varchar("type", { length: 16 }).notNull(),
    app: varchar("app", { length: 32 }).notNull(),
    instance: varchar("instance", { length: 20 }),
    at: timestamp("at", { fsp: 3 }).notNull(),
    requestId: varchar("request_id", { length: 128 }),
    visitor: varchar("visitor", { length: 64 }),
    data: json("data").$type<Record<string, string | number | boolean | null>>().notNull(),
    /** Token of the writer's transaction that inserted the row: tells it which rows of a batch were new. */
    writtenBy: varchar("written_by", { length: 16 }),
  },
  (table) => [index("events_app_at_idx").on(table.app, table.at), index("events_type_at_idx").on(table.type, table.at)],
);

export type EventRow = typeof events.$inferSelect;

/**
 * Event counts per app, UTC hour, type and detail (a rejection's reason; "first"/"again" for
 * extensions and conversions, so a funnel step counts instances): the analytics views read these,
 * so they stay fast for a year; raw events and sessions are kept EVENTS_RETENTION_DAYS.
 */
export const eventRollups = mysqlTable(
  "event_rollups",
  {
    app: varchar("app", { length: 32 }).notNull(),
    hour: timestamp("hour").notNull(),
    type: varchar("type", { length: 16 }).notNull(),
    detail: varchar("detail", { length: 32 }).notNull().default(""),
    count: int("count").notNull().default(0),
  },
  (table) => [primaryKey({ columns: [table.app, table.hour, table.type, table.detail] })],
);

/**
 * One row per instance a visitor held (ARCHITECTURE.md, "Funnel analytics"): written by the events
 * writer only (acquired, visited, requests, extended, ended, converted; lib/db/events.ts). It
 * outlives the instance, so a conversion is accepted up to 7 days after the end.
 */
export const instanceSessions = mysqlTable(
  "instance_sessions",
  {
    instance: varchar("instance", { length: 20 }).primaryKey(),
    app: varchar("app", { length: 32 }).notNull(),
    visitor: varchar("visitor", { length: 64 }),
    assignedAt: timestamp("assigned_at", { fsp: 3 }),
    firstVisitAt: timestamp("first_visit_at", { fsp: 3 }),
    lastRequestAt: timestamp("last_request_at", { fsp: 3 }),
    requests: int("requests").notNull().default(0),
    extensions: int("extensions").notNull().default(0),
    endedAt: timestamp("ended_at", { fsp: 3 }),
    endedHow: varchar("ended_how", { length: 16 }),
    convertedAt: timestamp("converted_at", { fsp: 3 }),
    conversions: int("conversions").notNull().default(0),
  },
  (table) => [
    index("instance_sessions_app_assigned_idx").on(table.app, table.assignedAt),
    index("instance_sessions_ended_idx").on(table.endedAt),
  ],
);
export type InstanceSessionRow = typeof instanceSessions.$inferSelect;
