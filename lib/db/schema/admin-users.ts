import { index, int, mysqlTable, timestamp, uniqueIndex, varchar } from "drizzle-orm/mysql-core";

/** People who sign in to the dashboard (ARCHITECTURE.md, "Admin dashboard"). Only a scrypt hash of the password. */
export const adminUsers = mysqlTable(
  "admin_users",
  {
    id: varchar("id", { length: 40 }).primaryKey(),
    email: varchar("email", { length: 254 }).notNull(),
    name: varchar("name", { length: 200 }).notNull(),
    role: varchar("role", { length: 16 }).$type<"admin" | "viewer">().notNull(),
    passwordHash: varchar("password_hash", { length: 200 }).notNull(),
    disabledAt: timestamp("disabled_at", { fsp: 3 }),
    createdAt: timestamp("created_at", { fsp: 3 }).notNull().defaultNow(),
    lastLoginAt: timestamp("last_login_at", { fsp: 3 }),
    /** Raised by every password change; a session signed in under another version is over. */
    sessionVersion: int("session_version").notNull().default(0),
  },
  (table) => [uniqueIndex("admin_users_email_idx").on(table.email), index("admin_users_role_idx").on(table.role)],
);

export type AdminUserRow = typeof adminUsers.$inferSelect;
