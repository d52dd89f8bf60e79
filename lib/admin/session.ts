import { getServerSession } from "next-auth";
import type { Ctx } from "../context";
import { findAdminUser } from "../db/admin-users";
import { authOptions } from "./auth";
import type { Role } from "./users/model";

export interface AdminUser {
  id: string;
  email: string;
  name: string;
  role: Role;
}

/**
 * The signed-in dashboard user of this request, or null. The user's row is read on every call, so
 * a disabled user is signed out at once, a role change applies at the next request, and a password
 * change ends every session signed in before it (the row's session version).
 */
export async function currentAdmin(ctx: Ctx): Promise<AdminUser | null> {
  const session = await getServerSession(await authOptions(ctx));
  const id = session?.user?.id;
  if (!id) return null;
  const row = await findAdminUser(ctx.db, id);
  // Disabled, or signed in before the latest password change: no longer a session.
  if (!row || row.disabledAt || row.sessionVersion !== session?.user?.sv) return null;
  return { id: row.id, email: row.email, name: row.name, role: row.role };
}

export const mayWrite = (user: AdminUser) => user.role === "admin";
