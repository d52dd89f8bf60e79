import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, realpathSync, statSync } from "node:fs";
import { join, sep } from "node:path";
import { type AppSpec, SeedName } from "../app-spec";
import type { Ctx } from "../context";
import { AppError } from "../errors";
import { withLock } from "../store/lock";
import { adminQuery, type DemoDbServer, demoDb, ident } from "./server";

/** A seeded template database, ready to be cloned: its name and its tables. */
export interface Template {
  name: string;
  tables: string[];
}

const READY = "tin:ready";

/** A failure of the seed itself (its SQL, its size, what it makes), not of the server: remembered per version. */
class SeedError extends Error {}

/**
 * The seed file an app names, inside SEEDS_DIR and nowhere else: the name is a bare file name (the
 * field's schema), and a symbolic link out of the folder is refused too.
 */
export function seedPath(seedsDir: string, name: string): string {
  if (!name || !SeedName.safeParse(name).success) throw new AppError("INVALID_REQUEST", `"${name}" is not a seed file name`);
  let root: string;
  let real: string;
  try {
    root = realpathSync(seedsDir);
    real = realpathSync(join(root, name));
  } catch {
    throw new AppError("NOT_FOUND", `seed ${name} is not in the seeds folder (SEEDS_DIR)`);
  }
  if (!real.startsWith(root + sep) || !statSync(real).isFile())
    throw new AppError("INVALID_REQUEST", `seed ${name} is not a file of the seeds folder`);
  return real;
}

/** The seed's version: the first 10 hex digits of its SHA-256, kept per file size and time. */
async function seedVersion(ctx: Ctx, path: string): Promise<string> {
  const stat = statSync(path);
  const memo = ctx.service("seed-versions", () => new Map<string, { stamp: string; version: string }>());
  const stamp = `${stat.size}:${stat.mtimeMs}`;
  const known = memo.get(path);
  if (known?.stamp === stamp) return known.version;
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  const version = hash.digest("hex").slice(0, 10);
  memo.set(path, { stamp, version });
  return version;
}

const slugPart = (slug: string) => slug.replace(/-/g, "_");

/** `<prefix>_t_<app>_<seed version>`; an app without a seed has the version `empty`. */
export function templateName(prefix: string, slug: string, version: string): string {
  return `${prefix}_t_${slugPart(slug)}_${version}`;
}

/**
 * The app's template for its current seed, loaded once (one worker at a time, under a Redis lock)
 * and found ready ever after. A seed that fails is remembered per version: the app's provisions fail
 * with its reason, without loading it again, until the file changes.
 */
export async function ensureTemplate(ctx: Ctx, app: AppSpec): Promise<Template> {
  const server = demoDb(ctx);
  const path = app.databaseSeed ? seedPath(ctx.config.SEEDS_DIR, app.databaseSeed) : null;
  const version = path ? await seedVersion(ctx, path) : "empty";
  const name = templateName(server.prefix, app.slug, version);
  const known = ctx.service("templates", () => new Map<string, Template | { error: string }>());
  const cached = known.get(name);
  if (cached && "error" in cached) throw new AppError("INVALID_REQUEST", cached.error);
  if (cached) return cached;
  const waitMs = ctx.config.SEED_TIMEOUT + 30_000;
  return withLock(
    ctx.redis,
    ctx.keys.templateLock(name),
    async () => {
      const found = await readyTemplate(server, name);
      if (found) {
        known.set(name, found);
        return found;
      }
      try {
        const made = await loadTemplate(ctx, server, name, path);
        known.set(name, made);
        ctx.log.info({ app: app.slug, template: name, tables: made.tables.length }, "database template ready");
        await dropOlderTemplates(server, app.slug, name);
        return made;
      } catch (error) {
        if (!(error instanceof SeedError)) throw error;
        const reason = `seed ${app.databaseSeed || "(empty)"} could not be loaded: ${(error as Error).message}`.slice(0, 500);
        known.set(name, { error: reason });
        throw new AppError("INVALID_REQUEST", reason);
      }
    },
    { ttlMs: waitMs, waitMs },
  );
}

/**
 * Forgets what this process knew of a template: a clone from it failed (dropped by hand, replaced by
 * a newer seed's), so the next provision asks the server again.
 */
export function forgetTemplate(ctx: Ctx, name: string): void {
  ctx.existing<Map<string, unknown>>("templates")?.delete(name);
}

async function readyTemplate(server: DemoDbServer, name: string): Promise<Template | null> {
  const rows = await adminQuery<{ SCHEMA_COMMENT: string }[]>(
    server,
    "SELECT SCHEMA_COMMENT FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
    [name],
  );
  if (rows[0]?.SCHEMA_COMMENT !== READY) return null;
  return { name, tables: await baseTables(server, name) };
}

async function baseTables(server: DemoDbServer, name: string): Promise<string[]> {
  const rows = await adminQuery<{ TABLE_NAME: string }[]>(
    server,
    "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
    [name],
  );
  return rows.map((row) => row.TABLE_NAME);
}

/**
 * Loads the seed into a new database with the `mariadb` client, as a user of its own whose grants
 * cover that database only: a seed is the owner's SQL, and must not reach anything else on the
 * server. Then checks that the clone can carry everything the seed made (tables only).
 */
async function loadTemplate(ctx: Ctx, server: DemoDbServer, name: string, path: string | null): Promise<Template> {
  await adminQuery(server, `DROP DATABASE IF EXISTS ${ident(name)}`);
  await adminQuery(server, `CREATE DATABASE ${ident(name)} CHARACTER SET utf8mb4 COMMENT 'tin:seeding'`);
  try {
    if (path) await runSeed(ctx, server, name, path);
    const [others] = await Promise.all([
      adminQuery<{ kind: string; n: number }[]>(
        server,
        `SELECT 'views' AS kind, COUNT(*) AS n FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ?
         UNION ALL SELECT 'triggers', COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?
         UNION ALL SELECT 'routines', COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?
         UNION ALL SELECT 'events', COUNT(*) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?`,
        [name, name, name, name],
      ),
    ]);
    const extra = others.filter((row) => Number(row.n) > 0).map((row) => row.kind);
    if (extra.length) throw new SeedError(`it makes ${extra.join(", ")}, which clones do not carry (tables only)`);
    await adminQuery(server, `ALTER DATABASE ${ident(name)} COMMENT '${READY}'`);
    return { name, tables: await baseTables(server, name) };
  } catch (error) {
    await adminQuery(server, `DROP DATABASE IF EXISTS ${ident(name)}`).catch(() => undefined);
    throw error;
  }
}

async function runSeed(ctx: Ctx, server: DemoDbServer, name: string, path: string): Promise<void> {
  const user = `${name.slice(0, 60)}_s`;
  const password = randomBytes(18).toString("base64url");
  const viaUrl = ctx.config.DEMO_DB_URL ? new URL(ctx.config.DEMO_DB_URL) : null;
  const host = viaUrl ? "%" : "localhost";
  await adminQuery(server, `DROP USER IF EXISTS ?@?`, [user, host]);
  await adminQuery(server, `CREATE USER ?@? IDENTIFIED BY ?`, [user, host, password]);
  try {
    await adminQuery(server, `GRANT ALL PRIVILEGES ON ${ident(name)}.* TO ?@?`, [user, host]);
    const where = viaUrl
      ? ["--host", viaUrl.hostname, "--port", viaUrl.port || "3306", "--protocol", "tcp"]
      : ["--socket", ctx.config.DEMO_DB_SOCKET, "--protocol", "socket"];
    await new Promise<void>((resolve, reject) => {
      // The password travels in MYSQL_PWD, never on a command line another user could read.
      const child = spawn("mariadb", [...where, "--user", user, "--batch", "--connect-timeout", "5", name], {
        env: { ...process.env, MYSQL_PWD: password },
        stdio: ["pipe", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => {
        if (stderr.length < 2000) stderr += chunk.toString("utf8");
      });
      const timer = setTimeout(() => child.kill("SIGKILL"), ctx.config.SEED_TIMEOUT);
      child.on("error", (error) => {
        clearTimeout(timer);
        reject(new Error(`the mariadb client could not run (${error.message})`));
      });
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else reject(new SeedError(signal ? "it took longer than SEED_TIMEOUT" : clientError(stderr) || `mariadb exited ${code}`));
      });
      const input = createReadStream(path);
      input.on("error", (error) => {
        child.kill();
        reject(error);
      });
      input.pipe(child.stdin);
      child.stdin.on("error", () => undefined);
    });
  } finally {
    await adminQuery(server, `DROP USER IF EXISTS ?@?`, [user, host]).catch(() => undefined);
  }
}

/** The client's error line ("ERROR 1064 (42000) at line 1: …"), not the statement it echoes around it. */
function clientError(stderr: string): string {
  const lines = stderr.split("\n").map((line) => line.trim());
  return lines.find((line) => line.startsWith("ERROR")) ?? lines.find((line) => line && !/^-+$/.test(line)) ?? "";
}

/** Templates of the app's earlier seeds: no new instance clones them any more. */
async function dropOlderTemplates(server: DemoDbServer, slug: string, current: string): Promise<void> {
  const head = `${server.prefix}_t_${slugPart(slug)}_`;
  const rows = await adminQuery<{ SCHEMA_NAME: string }[]>(
    server,
    "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?",
    [`${head.replace(/_/g, "\\_")}%`],
  );
  for (const { SCHEMA_NAME: name } of rows) {
    if (name !== current && /^([0-9a-f]{10}|empty)$/.test(name.slice(head.length)))
      await adminQuery(server, `DROP DATABASE IF EXISTS ${ident(name)}`);
  }
}
