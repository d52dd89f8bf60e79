import { index, json, mysqlTable, timestamp, varchar } from "drizzle-orm/mysql-core";

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
  },
  (table) => [index("events_app_at_idx").on(table.app, table.at), index("events_type_at_idx").on(table.type, table.at)],
);

export type EventRow = typeof events.$inferSelect;
