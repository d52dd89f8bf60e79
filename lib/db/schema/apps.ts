import { boolean, int, json, mysqlTable, timestamp, uniqueIndex, varchar } from "drizzle-orm/mysql-core";

/** An app whose containers the pool serves (DESIGN §9). Limits left null fall back to the environment. */
export const apps = mysqlTable(
  "apps",
  {
    id: varchar("id", { length: 40 }).primaryKey(),
    slug: varchar("slug", { length: 32 }).notNull(),
    name: varchar("name", { length: 200 }).notNull(),
    image: varchar("image", { length: 500 }).notNull(),
    containerPort: int("container_port").notNull(),
    healthPath: varchar("health_path", { length: 500 }).notNull(),
    env: json("env").$type<Record<string, string>>().notNull(),
    poolTarget: int("pool_target").notNull(),
    poolMin: int("pool_min").notNull(),
    poolMax: int("pool_max").notNull(),
    defaultTtlSeconds: int("default_ttl_seconds").notNull(),
    maxTtlSeconds: int("max_ttl_seconds").notNull(),
    adminPath: varchar("admin_path", { length: 500 }).notNull(),
    memoryMb: int("memory_mb").notNull(),
    cpuMillis: int("cpu_millis").notNull(),
    pidsLimit: int("pids_limit").notNull(),
    readOnlyRoot: boolean("read_only_root").notNull(),
    capAdd: json("cap_add").$type<string[]>().notNull(),
    rateLimitHourly: int("rate_limit_hourly"),
    rateLimitDaily: int("rate_limit_daily"),
    createdAt: timestamp("created_at", { fsp: 3 }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { fsp: 3 }).notNull().defaultNow(),
  },
  (table) => [uniqueIndex("apps_slug_idx").on(table.slug)],
);

export type AppRow = typeof apps.$inferSelect;
export type NewAppRow = typeof apps.$inferInsert;
