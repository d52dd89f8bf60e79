import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import mysql from "mysql2/promise";
import type { Config } from "../config";
import type { Ctx } from "../context";
import { AppError } from "../errors";

/**
 * The demo database server as this deployment uses it (ARCHITECTURE.md, "Demo databases"): an
 * admin pool for the worker, and the one address and port instances reach it on.
 */
export interface DemoDbServer {
  admin: mysql.Pool;
  /** What instances are told (TRYIT_DB_HOST) and the egress rules let through. */
  address: string;
  port: number;
  /** The deployment's part of every database and user name, so two deployments never touch each other's. */
  prefix: string;
  close(): Promise<void>;
}

/** Every call to the server gives up after this long (a clone of a large template is several statements of this). */
export const DEMO_DB_TIMEOUT_MS = 60_000;

/**
 * Whether this deployment has a demo database server: DEMO_DB_URL, or DEMO_DB_SOCKET where the
 * server is (its socket exists: `npm start` runs one; a deployment without it has none, and its
 * cleanups and reconciler never ask).
 */
export function demoDbConfigured(config: Pick<Config, "DEMO_DB_URL" | "DEMO_DB_SOCKET">): boolean {
  return Boolean(config.DEMO_DB_URL || (config.DEMO_DB_SOCKET && existsSync(config.DEMO_DB_SOCKET)));
}

/** Where instances reach the server: DEMO_DB_HOST, DEMO_DB_URL's host, or the host's address on docker0. */
export function demoDbEndpoint(config: Config): { address: string; port: number } | null {
  if (!config.DEMO_DB_URL && !config.DEMO_DB_SOCKET) return null;
  const url = config.DEMO_DB_URL ? new URL(config.DEMO_DB_URL) : null;
  const port = url ? Number(url.port || 3306) : config.DEMO_DB_PORT;
  if (config.DEMO_DB_HOST) return { address: config.DEMO_DB_HOST, port };
  if (url && /^\d{1,3}(\.\d{1,3}){3}$/.test(url.hostname)) return { address: url.hostname, port };
  const address = docker0Address();
  return address ? { address, port } : null;
}

/**
 * The host's IPv4 address on docker0. Asked of `ip`, not os.networkInterfaces(): libuv leaves out
 * an interface without carrier, and docker0 has none while no container is on it.
 */
function docker0Address(): string | null {
  try {
    const out = execFileSync("ip", ["-4", "-o", "addr", "show", "dev", "docker0"], { encoding: "utf8", timeout: 2000 });
    return /\binet (\d{1,3}(?:\.\d{1,3}){3})\//.exec(out)?.[1] ?? null;
  } catch {
    return null;
  }
}

/** `tin:` → `tin`: letters and digits of the Redis prefix, at most 12. */
export function namePrefix(valkeyPrefix: string): string {
  return (
    valkeyPrefix
      .toLowerCase()
      .replace(/[^a-z0-9]/g, "")
      .slice(0, 12) || "tin"
  );
}

/** An instance's database and its user share one name: `<prefix>_d_<instance id>`. */
export function instanceDbName(prefix: string, id: string): string {
  return `${prefix}_d_${id}`;
}

/** The instance ids of this deployment's database names (the reconciler's listing). */
export function idOfDbName(prefix: string, name: string): string | null {
  const head = `${prefix}_d_`;
  return name.startsWith(head) && /^[a-z2-7]{1,40}$/.test(name.slice(head.length)) ? name.slice(head.length) : null;
}

/** The server of this context, connected on first use; throws when the deployment has none. */
export function demoDb(ctx: Ctx): DemoDbServer {
  return ctx.service("demo-db", () => {
    const endpoint = demoDbEndpoint(ctx.config);
    if (!endpoint) {
      throw new AppError(
        "UNAVAILABLE",
        demoDbConfigured(ctx.config)
          ? "no address for the demo database server: docker0 has none here; set DEMO_DB_HOST"
          : "this deployment has no demo database server (none at DEMO_DB_SOCKET, no DEMO_DB_URL)",
      );
    }
    const common = { connectionLimit: 4, connectTimeout: 5000, enableKeepAlive: true, timezone: "Z" } as const;
    const admin = ctx.config.DEMO_DB_URL
      ? mysql.createPool({ uri: ctx.config.DEMO_DB_URL, ...common })
      : mysql.createPool({ socketPath: ctx.config.DEMO_DB_SOCKET, user: "root", ...common });
    return { admin, ...endpoint, prefix: namePrefix(ctx.config.VALKEY_PREFIX), close: () => admin.end() };
  });
}

/** A statement on the admin pool with the module's timeout. */
export async function adminQuery<T = unknown>(server: DemoDbServer, sql: string, values: unknown[] = []): Promise<T> {
  const [rows] = await server.admin.query({ sql, values, timeout: DEMO_DB_TIMEOUT_MS });
  return rows as T;
}

/** An identifier for SQL (database and user names are `[a-z0-9_]` here, so quoting is a formality). */
export const ident = (name: string) => `\`${name.replace(/`/g, "``")}\``;
