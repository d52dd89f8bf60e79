/**
 * npm run admin -- <command>: dashboard users from a shell.
 *   ensure [--password-file F]  first start: create the first admin when there is none (run by npm start/up)
 *   add <email> [--role viewer|admin] [--password-stdin]
 *   passwd <email> [--password-stdin]
 *   app <settings.json>         create the app of that file, or update it to the file (npm run example)
 * Without --password-stdin a random password is made and printed once.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { randomPassword } from "../lib/admin/password";
import { createAdminUser } from "../lib/admin/users/create";
import { ensureFirstAdmin } from "../lib/admin/users/ensure-first";
import { Email, Role } from "../lib/admin/users/model";
import { updateAdminUser } from "../lib/admin/users/update";
import { createApp } from "../lib/apps/create";
import { AppCreateInput, AppPatchInput } from "../lib/apps/model";
import { updateApp } from "../lib/apps/update";
import { cliCaller } from "../lib/audit/model";
import { loadConfig } from "../lib/config";
import { createContext } from "../lib/context";
import { findAdminUserByEmail } from "../lib/db/admin-users";
import { findAppRow } from "../lib/db/apps";
import { AppError } from "../lib/errors";

const [command, ...rest] = process.argv.slice(2);
const flag = (name: string) => rest.includes(name);
const option = (name: string) => {
  const index = rest.indexOf(name);
  return index >= 0 ? rest[index + 1] : undefined;
};
const positional = rest.filter(
  (arg, index) => !arg.startsWith("--") && !["--role", "--password-file"].includes(rest[index - 1] ?? ""),
);
/** Where a first start's random password is kept for the owner (tests point it elsewhere). */
const PASSWORD_FILE = option("--password-file") ?? ".data/admin-password";

const ctx = createContext({ ...loadConfig(), LOG_LEVEL: "warn" }, "admin-cli");
const caller = cliCaller();

function password(): { value: string; generated: boolean } {
  if (flag("--password-stdin")) return { value: readFileSync(0, "utf8").replace(/\r?\n$/, ""), generated: false };
  return { value: randomPassword(), generated: true };
}

async function main(): Promise<void> {
  switch (command) {
    case "ensure": {
      const outcome = await ensureFirstAdmin(ctx, cliCaller("first start"));
      if (outcome.kind === "created-random") {
        mkdirSync(dirname(PASSWORD_FILE), { recursive: true });
        writeFileSync(PASSWORD_FILE, `${outcome.email}\n${outcome.password}\n`, { mode: 0o600 });
        chmodSync(PASSWORD_FILE, 0o600);
        console.log("\n    ┌──────────────────────────────────────────────────────────────────");
        console.log(`    │ Dashboard admin created (shown once; also in ${PASSWORD_FILE})`);
        console.log(`    │   email:    ${outcome.email}`);
        console.log(`    │   password: ${outcome.password}`);
        console.log("    └──────────────────────────────────────────────────────────────────\n");
      } else if (outcome.kind === "created-from-env")
        console.log(`    dashboard admin ${outcome.email} created from ADMIN_EMAIL / ADMIN_PASSWORD`);
      else if (outcome.kind === "password-from-env")
        console.log(`    dashboard admin ${outcome.email}: password set from the changed ADMIN_PASSWORD`);
      else console.log("    dashboard users: present");
      return;
    }
    case "add": {
      const email = Email.parse(positional[0] ?? "");
      const role = Role.parse(option("--role") ?? "admin");
      const secret = password();
      const user = await createAdminUser(ctx, { email, role, password: secret.value }, caller);
      console.log(`added ${user.email} (${user.role})${secret.generated ? `; password: ${secret.value}` : ""}`);
      return;
    }
    case "passwd": {
      const email = Email.parse(positional[0] ?? "");
      const row = await findAdminUserByEmail(ctx.db, email);
      if (!row) throw new AppError("NOT_FOUND", `no user ${email}`);
      const secret = password();
      await updateAdminUser(ctx, row.id, { password: secret.value }, caller);
      console.log(`password of ${email} changed${secret.generated ? `; new password: ${secret.value}` : ""}`);
      return;
    }
    case "app": {
      // The settings exactly as the API takes them (POST /api/v1/apps), validated by the same schemas.
      const settings = JSON.parse(readFileSync(positional[0] ?? "", "utf8")) as Record<string, unknown>;
      const create = AppCreateInput.parse(settings);
      if (await findAppRow(ctx.db, create.slug)) {
        const { slug, ...fields } = settings;
        await updateApp(ctx, create.slug, AppPatchInput.parse(fields), caller);
        console.log(`    app ${slug} updated from ${positional[0]}`);
      } else {
        await createApp(ctx, create, caller);
        console.log(`    app ${create.slug} created from ${positional[0]}`);
      }
      return;
    }
    default:
      console.error(
        "usage: npm run admin -- ensure | add <email> [--role viewer|admin] [--password-stdin] | passwd <email> [--password-stdin] | app <settings.json>",
      );
      process.exitCode = 2;
  }
}

main()
  .catch((error: unknown) => {
    const issues = (error as { issues?: { message: string }[] }).issues;
    console.error(`admin: ${issues ? issues.map((issue) => issue.message).join("; ") : (error as Error).message}`);
    process.exitCode = 1;
  })
  .finally(() => ctx.close());
