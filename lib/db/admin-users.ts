import { and, asc, count, eq, isNull, sql } from "drizzle-orm";
import type { Queryable } from "./client";
import { type AdminUserRow, adminUsers } from "./schema";

export function listAdminUserRows(db: Queryable): Promise<AdminUserRow[]> {
  return db.select().from(adminUsers).orderBy(asc(adminUsers.email));
}

export async function findAdminUserByEmail(db: Queryable, email: string): Promise<AdminUserRow | undefined> {
  const [row] = await db.select().from(adminUsers).where(eq(adminUsers.email, email)).limit(1);
  return row;
}

export async function findAdminUser(db: Queryable, id: string): Promise<AdminUserRow | undefined> {
  const [row] = await db.select().from(adminUsers).where(eq(adminUsers.id, id)).limit(1);
  return row;
}

export async function insertAdminUserRow(db: Queryable, row: typeof adminUsers.$inferInsert): Promise<void> {
  await db.insert(adminUsers).values(row);
}

export async function updateAdminUserRow(
  db: Queryable,
  id: string,
  fields: Partial<Pick<AdminUserRow, "name" | "role" | "passwordHash" | "disabledAt" | "lastLoginAt">>,
): Promise<void> {
  // A new password ends every session of the user signed in before it (lib/admin/session.ts).
  const bump = fields.passwordHash === undefined ? {} : { sessionVersion: sql`${adminUsers.sessionVersion} + 1` };
  await db
    .update(adminUsers)
    .set({ ...fields, ...bump })
    .where(eq(adminUsers.id, id));
}

export async function countAdminUsers(db: Queryable): Promise<number> {
  const [row] = await db.select({ n: count() }).from(adminUsers);
  return row?.n ?? 0;
}

/** Active (not disabled) users with the role admin. */
export async function countActiveAdmins(db: Queryable): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(adminUsers)
    .where(and(eq(adminUsers.role, "admin"), isNull(adminUsers.disabledAt)));
  return row?.n ?? 0;
}
