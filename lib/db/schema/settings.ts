import { json, mysqlTable, timestamp, varchar } from "drizzle-orm/mysql-core";

/**
 * Values the processes share through the database, one row per name: what the environment last
 * applied to the app `default` (ARCHITECTURE.md, "The app default and the environment").
 */
export const settings = mysqlTable("settings", {
  name: varchar("name", { length: 64 }).primaryKey(),
  value: json("value").$type<unknown>(),
  updatedAt: timestamp("updated_at", { fsp: 3 }).notNull().defaultNow(),
});
