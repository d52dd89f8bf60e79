import { bigint, index, json, mysqlTable, timestamp, varchar } from "drizzle-orm/mysql-core";

/**
 * Every mutation made through the dashboard or the API: who (a user's email, or a key's prefix),
 * what, on which target, a before/after summary without secrets, and the request id.
 */
export const auditLog = mysqlTable(
  "audit_log",
  {
    id: bigint("id", { mode: "number", unsigned: true }).autoincrement().primaryKey(),
    at: timestamp("at", { fsp: 3 }).notNull().defaultNow(),
    actorKind: varchar("actor_kind", { length: 16 }).$type<"user" | "key" | "env" | "open" | "cli">().notNull(),
    actor: varchar("actor", { length: 254 }).notNull(),
    action: varchar("action", { length: 64 }).notNull(),
    targetKind: varchar("target_kind", { length: 32 }).notNull(),
    target: varchar("target", { length: 254 }).notNull(),
    summary: json("summary").$type<Record<string, unknown>>(),
    requestId: varchar("request_id", { length: 128 }),
  },
  (table) => [index("audit_log_target_idx").on(table.targetKind, table.target), index("audit_log_at_idx").on(table.at)],
);

export type AuditRow = typeof auditLog.$inferSelect;
