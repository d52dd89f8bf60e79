import { sql } from "drizzle-orm";
import { type Caller, changes } from "../../audit/model";
import { recordAudit } from "../../audit/record";
import type { Ctx } from "../../context";
import { countActiveAdmins, findAdminUser, updateAdminUserRow } from "../../db/admin-users";
import type { AdminUserRow } from "../../db/schema";
import { AppError, notFound } from "../../errors";
import { hashPassword } from "../password";
import { type UserPatchInput, userView } from "./model";

/**
 * Changes a user's name, role, password or disabled state. The last active admin can be neither
 * demoted nor disabled, so the dashboard always has someone who can manage it. Runs in a
 * transaction that locks the user rows it counts, so two admins demoting each other at once cannot
 * both succeed.
 */
export async function updateAdminUser(ctx: Ctx, id: string, input: UserPatchInput, caller: Caller) {
  return ctx.db.transaction(async (tx) => {
    const row = await findAdminUser(tx, id);
    if (!row) throw notFound("user");
    const fields: Partial<Pick<AdminUserRow, "name" | "role" | "passwordHash" | "disabledAt">> = {};
    if (input.name !== undefined) fields.name = input.name;
    if (input.role !== undefined) fields.role = input.role;
    if (input.disabled !== undefined) fields.disabledAt = input.disabled ? (row.disabledAt ?? new Date()) : null;
    if (input.password !== undefined) fields.passwordHash = await hashPassword(input.password);
    const staysAdmin =
      (fields.role ?? row.role) === "admin" && (fields.disabledAt === undefined ? row.disabledAt : fields.disabledAt) === null;
    const wasActiveAdmin = row.role === "admin" && row.disabledAt === null;
    if (wasActiveAdmin && !staysAdmin) {
      // Lock the active admins' rows while counting them.
      await tx.execute(sql`SELECT id FROM admin_users WHERE role = 'admin' AND disabled_at IS NULL FOR UPDATE`);
      if ((await countActiveAdmins(tx)) <= 1) {
        throw new AppError("CONFLICT", "this is the last active admin: make another user an admin first");
      }
    }
    await updateAdminUserRow(tx, id, fields);
    const after = (await findAdminUser(tx, id))!;
    const before = userView(row);
    const now = userView(after);
    const diff = changes(
      { name: before.name, role: before.role, disabled: before.disabled },
      { name: now.name, role: now.role, disabled: now.disabled },
    );
    await recordAudit(
      ctx,
      caller,
      {
        action: input.password !== undefined ? "user.update+password" : "user.update",
        targetKind: "user",
        target: row.email,
        summary: diff,
      },
      tx,
    );
    return now;
  });
}
