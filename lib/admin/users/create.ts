import type { Caller } from "../../audit/model";
import { recordAudit } from "../../audit/record";
import type { Ctx } from "../../context";
import { findAdminUser, findAdminUserByEmail, insertAdminUserRow } from "../../db/admin-users";
import { AppError } from "../../errors";
import { newRecordId } from "../../ids";
import { hashPassword } from "../password";
import { type UserCreateInput, userView } from "./model";

export async function createAdminUser(ctx: Ctx, input: UserCreateInput, caller: Caller) {
  if (await findAdminUserByEmail(ctx.db, input.email)) throw new AppError("CONFLICT", `a user ${input.email} already exists`);
  const id = newRecordId("usr");
  try {
    await insertAdminUserRow(ctx.db, {
      id,
      email: input.email,
      name: input.name || input.email.split("@")[0],
      role: input.role,
      passwordHash: await hashPassword(input.password),
    });
  } catch (error) {
    const { code, cause } = error as { code?: string; cause?: { code?: string } };
    if (code === "ER_DUP_ENTRY" || cause?.code === "ER_DUP_ENTRY")
      throw new AppError("CONFLICT", `a user ${input.email} already exists`);
    throw error;
  }
  await recordAudit(ctx, caller, {
    action: "user.create",
    targetKind: "user",
    target: input.email,
    summary: { role: input.role },
  });
  return userView((await findAdminUser(ctx.db, id))!);
}
