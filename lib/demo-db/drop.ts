import type { Ctx } from "../context";
import { adminQuery, demoDb, ident, idOfDbName, instanceDbName } from "./server";

/** Drops an instance's database and user; absent ones count as dropped. */
export async function dropInstanceDatabase(ctx: Ctx, id: string): Promise<void> {
  const server = demoDb(ctx);
  const name = instanceDbName(server.prefix, id);
  await adminQuery(server, `DROP DATABASE IF EXISTS ${ident(name)}`);
  await adminQuery(server, "DROP USER IF EXISTS ?@'%'", [name]);
}

/** The instance ids that have a database or a user on the server (the reconciler's listing). */
export async function listInstanceDatabases(ctx: Ctx): Promise<Set<string>> {
  const server = demoDb(ctx);
  const pattern = `${server.prefix}\\_d\\_%`;
  const [schemas, users] = await Promise.all([
    adminQuery<{ name: string }[]>(
      server,
      "SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?",
      [pattern],
    ),
    adminQuery<{ name: string }[]>(server, "SELECT User AS name FROM mysql.user WHERE User LIKE ?", [pattern]),
  ]);
  const ids = new Set<string>();
  for (const { name } of [...schemas, ...users]) {
    const id = idOfDbName(server.prefix, name);
    if (id) ids.add(id);
  }
  return ids;
}
