import type { Caller } from "../../audit/model";
import { recordAudit } from "../../audit/record";
import type { Ctx } from "../../context";
import { countAdminUsers, findAdminUserByEmail, insertAdminUserRow, updateAdminUserRow } from "../../db/admin-users";
import { withSettingLocked } from "../../db/settings";
import { newRecordId } from "../../ids";
import { hashPassword, randomPassword, verifyPassword } from "../password";
import { Email } from "./model";

export const FIRST_ADMIN_EMAIL = "admin@localhost";

/** What the environment's admin last had applied: the hash set from ADMIN_PASSWORD, to notice a change. */
const APPLIED = "admin_env_password";

export type FirstAdminOutcome =
  | { kind: "unchanged" }
  | { kind: "created-from-env"; email: string }
  | { kind: "password-from-env"; email: string }
  | { kind: "created-random"; email: string; password: string };

/**
 * At start, so a first run needs no set-up step. With ADMIN_EMAIL and ADMIN_PASSWORD: that user
 * exists as an admin, and gets the variable's password again only when the variable changed (a
 * password changed in the dashboard stays otherwise). Without them, and with no user at all:
 * `admin@localhost` with a random password, returned once for the caller to show and keep.
 */
export async function ensureFirstAdmin(ctx: Ctx, caller: Caller): Promise<FirstAdminOutcome> {
  const { ADMIN_EMAIL, ADMIN_PASSWORD } = ctx.config;
  return withSettingLocked(ctx.db, APPLIED, async (current, write, tx) => {
    if (ADMIN_EMAIL && ADMIN_PASSWORD) {
      const email = Email.parse(ADMIN_EMAIL);
      const row = await findAdminUserByEmail(tx, email);
      const applied = typeof current === "object" && current !== null ? (current as { email?: string; hash?: string }) : {};
      if (row && applied.email === email && applied.hash && (await verifyPassword(ADMIN_PASSWORD, applied.hash)))
        return { kind: "unchanged" };
      const hash = await hashPassword(ADMIN_PASSWORD);
      if (!row) {
        await insertAdminUserRow(tx, { id: newRecordId("usr"), email, name: "Admin", role: "admin", passwordHash: hash });
        await recordAudit(
          ctx,
          caller,
          { action: "user.create", targetKind: "user", target: email, summary: { role: "admin", from: "ADMIN_EMAIL" } },
          tx,
        );
      } else {
        await updateAdminUserRow(tx, row.id, { passwordHash: hash });
        await recordAudit(
          ctx,
          caller,
          { action: "user.update+password", targetKind: "user", target: email, summary: { from: "ADMIN_PASSWORD" } },
          tx,
        );
      }
      await write({ email, hash });
      return row ? { kind: "password-from-env", email } : { kind: "created-from-env", email };
    }
    if ((await countAdminUsers(tx)) > 0) return { kind: "unchanged" };
    const password = randomPassword();
    await insertAdminUserRow(tx, {
      id: newRecordId("usr"),
      email: FIRST_ADMIN_EMAIL,
      name: "Admin",
      role: "admin",
      passwordHash: await hashPassword(password),
    });
    await recordAudit(
      ctx,
      caller,
      { action: "user.create", targetKind: "user", target: FIRST_ADMIN_EMAIL, summary: { role: "admin", from: "first start" } },
      tx,
    );
    return { kind: "created-random", email: FIRST_ADMIN_EMAIL, password };
  });
}
