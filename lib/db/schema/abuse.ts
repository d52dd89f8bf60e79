import { index, mysqlTable, timestamp, varchar } from "drizzle-orm/mysql-core";

/**
 * The block list (ARCHITECTURE.md, "Drain protection"): an address or a CIDR, for one app or every
 * app (`app` null), until `expires_at`. Mirrored per app in Redis, where the acquire script checks it.
 */
export const blocks = mysqlTable(
  "blocks",
  {
    id: varchar("id", { length: 40 }).primaryKey(),
    /** As `parseBlock` writes it: the network address at its length. */
    cidr: varchar("cidr", { length: 64 }).notNull(),
    app: varchar("app", { length: 64 }),
    reason: varchar("reason", { length: 500 }).notNull().default(""),
    createdBy: varchar("created_by", { length: 254 }).notNull(),
    createdAt: timestamp("created_at", { fsp: 3 }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { fsp: 3 }).notNull(),
  },
  (table) => [index("blocks_expires_at_idx").on(table.expiresAt)],
);
export type BlockRow = typeof blocks.$inferSelect;

/**
 * The abuse trail: which client address held which instance, from when to when. The one place raw
 * addresses are kept, for ABUSE_TRAIL_DAYS, readable by admins only (the `abuse:read` scope).
 */
export const abuseTrail = mysqlTable(
  "abuse_trail",
  {
    instance: varchar("instance", { length: 40 }).primaryKey(),
    app: varchar("app", { length: 64 }).notNull(),
    clientIp: varchar("client_ip", { length: 64 }).notNull(),
    assignedAt: timestamp("assigned_at", { fsp: 3 }).notNull(),
    endedAt: timestamp("ended_at", { fsp: 3 }),
  },
  (table) => [
    index("abuse_trail_app_idx").on(table.app, table.assignedAt),
    index("abuse_trail_client_idx").on(table.clientIp),
    index("abuse_trail_assigned_idx").on(table.assignedAt),
  ],
);
export type AbuseTrailRow = typeof abuseTrail.$inferSelect;
