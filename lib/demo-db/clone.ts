import { createHash, randomBytes } from "node:crypto";
import mysql from "mysql2/promise";
import { type AppSpec, parseDatabaseEnv } from "../app-spec";
import type { Ctx } from "../context";
import { metrics } from "../metrics";
import { dropInstanceDatabase } from "./drop";
import { DEMO_DB_TIMEOUT_MS, type DemoDbServer, demoDb, ident, instanceDbName } from "./server";
import { ensureTemplate, forgetTemplate } from "./template";

/** What an instance's setup step may put into its SQL (each value quoted as a string literal). */
export interface SetupValues {
  url: string;
  host: string;
  username: string;
  password: string;
}

/** What the instance's container is told of its database. */
export interface InstanceDatabase {
  env: Record<string, string>;
  cloneMs: number;
}

/** The privileges an instance's user has on its own database, and on nothing else of the server. */
const GRANTS =
  "SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, INDEX, ALTER, REFERENCES, CREATE TEMPORARY TABLES, LOCK TABLES, CREATE VIEW, SHOW VIEW";

/**
 * Makes an instance's database (ARCHITECTURE.md, "Demo databases"): the app's template cloned
 * inside the server — `CREATE TABLE … LIKE` and `INSERT … SELECT` per table, so no row leaves the
 * server — a user with a random password and grants on that database only, then the app's setup
 * statements run as that user. Undone entirely when any step fails.
 */
export async function cloneDatabase(ctx: Ctx, app: AppSpec, id: string, values: SetupValues): Promise<InstanceDatabase> {
  const server = demoDb(ctx);
  const template = await ensureTemplate(ctx, app);
  const started = performance.now();
  const name = instanceDbName(server.prefix, id);
  const password = randomBytes(18).toString("base64url");
  try {
    const connection = await server.admin.getConnection();
    try {
      const run = (sql: string, params: unknown[] = []) => connection.query({ sql, values: params, timeout: DEMO_DB_TIMEOUT_MS });
      await run(`CREATE DATABASE ${ident(name)} CHARACTER SET utf8mb4`);
      await run("SET SESSION foreign_key_checks = 0, unique_checks = 0");
      for (const table of template.tables) {
        await run(`CREATE TABLE ${ident(name)}.${ident(table)} LIKE ${ident(template.name)}.${ident(table)}`);
        await run(`INSERT INTO ${ident(name)}.${ident(table)} SELECT * FROM ${ident(template.name)}.${ident(table)}`);
      }
      await run("CREATE USER ?@'%' IDENTIFIED BY ? WITH MAX_USER_CONNECTIONS 20", [name, password]);
      await run(`GRANT ${GRANTS} ON ${ident(name)}.* TO ?@'%'`, [name]);
    } finally {
      connection.release();
    }
    await runSetup(server, app, name, password, values);
  } catch (error) {
    forgetTemplate(ctx, template.name);
    await dropInstanceDatabase(ctx, id).catch(() => undefined);
    throw new Error(`database for ${id}: ${redact((error as Error).message, [password, values.password])}`);
  }
  const cloneMs = performance.now() - started;
  metrics.databaseCloneDuration.observe({ app: app.slug }, cloneMs / 1000);
  const parts = {
    host: server.address,
    port: String(server.port),
    host_port: `${server.address}:${server.port}`,
    name,
    user: name,
    password,
  };
  const env: Record<string, string> = {
    TRYIT_DB_HOST: parts.host,
    TRYIT_DB_PORT: parts.port,
    TRYIT_DB_NAME: parts.name,
    TRYIT_DB_USER: parts.user,
    TRYIT_DB_PASSWORD: parts.password,
  };
  for (const entry of app.databaseEnv) {
    const mapping = parseDatabaseEnv(entry);
    if (mapping) env[mapping.name] = parts[mapping.part];
  }
  return { env, cloneMs };
}

/**
 * The app's setup statements, as the instance's own user over the address instances use: whatever
 * an owner writes there can change this database and nothing else.
 */
async function runSetup(server: DemoDbServer, app: AppSpec, name: string, password: string, values: SetupValues) {
  if (!app.databaseSetup.length) return;
  const connection = await mysql.createConnection({
    host: server.address,
    port: server.port,
    user: name,
    password,
    database: name,
    connectTimeout: 5000,
  });
  try {
    for (const statement of app.databaseSetup) {
      await connection.query({ sql: fillPlaceholders(statement, { ...values, database: name }), timeout: DEMO_DB_TIMEOUT_MS });
    }
  } finally {
    await connection.end().catch(() => undefined);
  }
}

const PLACEHOLDER = /\{\{\s*(url|host|database|username|password|password_md5|password_sha256)\s*\}\}/g;

/** `{{url}}` and friends → SQL string literals (mysql2's escaping), so a value cannot end the statement. */
export function fillPlaceholders(statement: string, values: SetupValues & { database: string }): string {
  return statement.replace(PLACEHOLDER, (_all, key: string) => {
    const value =
      key === "password_md5"
        ? createHash("md5").update(values.password).digest("hex")
        : key === "password_sha256"
          ? createHash("sha256").update(values.password).digest("hex")
          : values[key as keyof typeof values];
    return mysql.escape(value);
  });
}

function redact(message: string, secrets: string[]): string {
  let text = message;
  for (const secret of secrets) if (secret) text = text.split(secret).join("********");
  return text.slice(0, 400);
}
