import { index, int, json, mysqlTable, timestamp, uniqueIndex, varchar } from "drizzle-orm/mysql-core";

/** API keys (ARCHITECTURE.md, "MariaDB"): the prefix and SHA-256 of each key, never the key itself. */
export const apiKeys = mysqlTable(
  "api_keys",
  {
    id: varchar("id", { length: 40 }).primaryKey(),
    name: varchar("name", { length: 200 }).notNull(),
    kind: varchar("kind", { length: 16 }).$type<"secret" | "publishable">().notNull(),
    prefix: varchar("prefix", { length: 24 }).notNull(),
    hash: varchar("hash", { length: 64 }).notNull(),
    scopes: json("scopes").$type<string[]>().notNull(),
    apps: json("apps").$type<string[] | null>(),
    allowedOrigins: json("allowed_origins").$type<string[]>().notNull(),
    /** A publishable key's own drain cap (demos a minute per app); null: none. */
    acquireRate: int("acquire_rate"),
    createdAt: timestamp("created_at", { fsp: 3 }).notNull().defaultNow(),
    revokedAt: timestamp("revoked_at", { fsp: 3 }),
    lastUsedAt: timestamp("last_used_at", { fsp: 3 }),
  },
  (table) => [uniqueIndex("api_keys_hash_idx").on(table.hash), index("api_keys_revoked_at_idx").on(table.revokedAt)],
);

export type ApiKeyRow = typeof apiKeys.$inferSelect;
