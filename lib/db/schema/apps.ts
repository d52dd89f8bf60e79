import { mysqlTable, timestamp, uniqueIndex, varchar } from "drizzle-orm/mysql-core";
import { appColumns } from "../../app-spec";

/**
 * An app whose containers the pool serves. Its setting columns come from the one field table in
 * `lib/app-spec.ts`; limits left null fall back to the environment.
 */
export const apps = mysqlTable(
  "apps",
  {
    id: varchar("id", { length: 40 }).primaryKey(),
    slug: varchar("slug", { length: 32 }).notNull(),
    ...appColumns(),
    createdAt: timestamp("created_at", { fsp: 3 }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { fsp: 3 }).notNull().defaultNow(),
  },
  (table) => [uniqueIndex("apps_slug_idx").on(table.slug)],
);

export type AppRow = typeof apps.$inferSelect;
export type NewAppRow = typeof apps.$inferInsert;
