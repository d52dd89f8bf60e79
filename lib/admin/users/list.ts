import type { Ctx } from "../../context";
import { listAdminUserRows } from "../../db/admin-users";
import { userView } from "./model";

export async function listAdminUsers(ctx: Ctx) {
  return { users: (await listAdminUserRows(ctx.db)).map(userView) };
}
