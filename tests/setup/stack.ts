/**
 * The test stack: its own Caddy (admin 127.0.0.1:12019, proxy :18081), web (:18080), Redis prefix,
 * database and Docker network, beside whatever `npm start` runs. Services themselves (dockerd,
 * Redis, MariaDB, NATS) are started by scripts/test.sh. Workers are started by each test file.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { closeSync, createWriteStream, mkdirSync, openSync } from "node:fs";
import Docker from "dockerode";
import { Redis } from "ioredis";
import mysql from "mysql2/promise";
import { loadConfig } from "../../lib/config";
import { splitAddr } from "../../lib/store/redis";

const base = loadConfig();
const testDatabaseUrl = (() => {
  const url = new URL(base.DATABASE_URL);
  url.pathname = `${url.pathname}_test`;
  return process.env.TEST_DATABASE_URL ?? url.toString();
})();

export const TEST_PORT = 18080;
export const TEST_PROXY_PORT = 18081;
export const TEST_CADDY_ADMIN = "127.0.0.1:12019";
export const TEST_PREFIX = "tintest:";
export const TEST_API_KEY = process.env.TEST_API_KEY_OVERRIDE ?? "test-secret-key-0123456789";

export const TEST_ENV: Record<string, string> = {
  NODE_ENV: "production",
  PORT: String(TEST_PORT),
  PROXY_PORT: String(TEST_PROXY_PORT),
  // Test files start their own web processes (not through the supervisor: tests/supervise.test.ts does).
  WEB_PROCESSES: "1",
  // Files start and stop their own workers while the stack's web outlives them: not "down" between files.
  WORKER_DOWN_AFTER: "10m",
  CADDY_ADMIN_URL: `http://${TEST_CADDY_ADMIN}`,
  PROXY_ACCESS_LOG: ".data/test-caddy/access.log",
  VALKEY_PREFIX: TEST_PREFIX,
  DATABASE_URL: testDatabaseUrl,
  CONTAINER_NETWORK: "tin-test-net",
  BASE_DOMAIN: "localhost",
  PUBLIC_SCHEME: "http",
  PUBLIC_URL: `http://localhost:${TEST_PORT}`,
  API_KEY: TEST_API_KEY,
  POOL_TARGET_SIZE: "0",
  POOL_MIN_SIZE: "0",
  POOL_MAX_SIZE: "20",
  RECONCILE_INTERVAL: "2s",
  WORKER_LEASE: "3s",
  APP_SYNC_INTERVAL: "1s",
  POOL_REPLENISH_INTERVAL: "250ms",
  HEALTH_TIMEOUT: "20s",
  RATE_LIMIT_HOURLY: "0",
  RATE_LIMIT_DAILY: "0",
  LOG_LEVEL: "info",
  KEY_CACHE_TTL: "1s",
  JOB_ACK_WAIT: "3s",
  JOB_MAX_DELIVER: "3",
  SSE_MAX_PER_IP: "4",
  SEEDS_DIR: ".data/test-seeds",
  // Small, so the upload test crosses it with a small body.
  SEED_UPLOAD_MAX_MB: "1",
};

const LOGS = ".data/logs";
mkdirSync(LOGS, { recursive: true });

export interface Proc {
  child: ChildProcess;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Every process a test started, killed when the test process exits however it ends. */
const started = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

export function startProcess(
  name: string,
  command: string,
  args: string[],
  env: Record<string, string> = {},
  options: { outlive?: boolean } = {},
): Proc {
  const path = `${LOGS}/test-${name}.log`;
  // A process that outlives this one writes to its log file directly: a pipe would break when we exit.
  const fd = options.outlive ? openSync(path, "a") : undefined;
  const child = spawn(command, args, {
    env: { ...process.env, ...TEST_ENV, ...env },
    stdio: fd === undefined ? ["ignore", "pipe", "pipe"] : ["ignore", fd, fd],
    detached: options.outlive,
  });
  if (fd === undefined) {
    const log = createWriteStream(path, { flags: "a" });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    started.add(child);
  } else {
    closeSync(fd);
    child.unref();
  }
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      started.delete(child);
      resolve(code);
    }),
  );
  return {
    child,
    exited,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false>,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ""}`);
}

/** The test Caddy; `outlive` keeps it running after the test file that restarted it ends (teardown stops it). */
export function startCaddy(options: { outlive?: boolean } = {}): Proc {
  mkdirSync(".data/test-caddy", { recursive: true });
  const config = JSON.stringify({ admin: { listen: TEST_CADDY_ADMIN } });
  const proc = startProcess(
    "caddy",
    "bash",
    ["-c", `echo '${config}' > .data/test-caddy/bootstrap.json && exec caddy run --config .data/test-caddy/bootstrap.json`],
    {
      XDG_DATA_HOME: ".data/test-caddy",
      XDG_CONFIG_HOME: ".data/test-caddy",
    },
    options,
  );
  return proc;
}

/** Stops whichever test Caddy runs, through its admin API. */
export async function stopCaddy(): Promise<void> {
  await fetch(`http://${TEST_CADDY_ADMIN}/stop`, { method: "POST", signal: AbortSignal.timeout(5000) }).catch(() => undefined);
  await waitFor("test caddy to stop", async () => !(await caddyUp().catch(() => false)), 10_000);
}

export async function caddyUp(): Promise<boolean> {
  const response = await fetch(`http://${TEST_CADDY_ADMIN}/config/`, { signal: AbortSignal.timeout(1000) });
  return response.ok;
}

export function startWeb(env: Record<string, string> = {}, name = "web"): Proc {
  return startProcess(name, process.execPath, [".next/tin-server.mjs"], env);
}

export async function webAnswers(port: number): Promise<boolean> {
  const response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) });
  return response.status === 200;
}

export function startWorker(name = "worker", env: Record<string, string> = {}): Proc {
  return startProcess(name, process.execPath, ["--import", "tsx", "worker/index.ts"], env);
}

/** A worker whose cleanup jobs of one app fail or hang (tests/setup/cleanup-fault.ts). */
export function startFaultyWorker(name: string, fault: `${"fail" | "hang"}:${string}`, env: Record<string, string> = {}): Proc {
  return startProcess(
    name,
    process.execPath,
    ["--import", "tsx", "--import", "./tests/setup/cleanup-fault.ts", "worker/index.ts"],
    {
      ...env,
      TIN_CLEANUP_FAULT: fault,
    },
  );
}

/** `npm run admin -- …` against the test stack's database; returns its output, throws on failure. */
export function adminCli(args: string[], options: { input?: string; env?: Record<string, string> } = {}): string {
  const result = spawnSync(process.execPath, ["--import", "tsx", "scripts/admin.ts", ...args], {
    env: { ...process.env, ...TEST_ENV, ...options.env },
    input: options.input,
    encoding: "utf8",
    timeout: 60_000,
  });
  if (result.status !== 0) throw new Error(`admin ${args.join(" ")} failed: ${result.stderr || result.stdout}`);
  return result.stdout;
}

export const docker = new Docker({ socketPath: "/var/run/docker.sock" });

export function testRedis(): Redis {
  const [host, port] = splitAddr(base.VALKEY_ADDR);
  const client = new Redis({ host, port, password: base.VALKEY_PASSWORD || undefined, db: base.VALKEY_DB });
  client.on("error", () => undefined); // a test that restarts Redis expects its clients to reconnect quietly
  return client;
}

/** Leaves nothing of an earlier test run: keys, containers, app rows. */
export async function resetTestState(): Promise<void> {
  await resetDeployment(TEST_PREFIX, testDatabaseUrl);
}

/** One deployment's Redis keys (by prefix), containers (by label) and rows (its own database). */
export async function resetDeployment(prefix: string, databaseUrl: string): Promise<void> {
  const redis = testRedis();
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== "0");
  redis.disconnect();
  await removeContainersOf(prefix);
  const connection = await mysql.createConnection(databaseUrl);
  for (const table of ["apps", "api_keys", "settings", "admin_users", "audit_log", "events"])
    await connection.query(`DELETE FROM ${table}`);
  await connection.end();
}

/** One statement on the test stack's database (what no API reaches: stored rows as an older version left them). */
export async function testDbQuery<T = unknown>(sql: string, params: unknown[] = []): Promise<T> {
  const connection = await mysql.createConnection(testDatabaseUrl);
  try {
    const [rows] = await connection.query(sql, params);
    return rows as T;
  } finally {
    await connection.end();
  }
}

/** Removes dashboard users a test file made (there is no API for it: users are disabled, not deleted). */
export async function deleteAdminUsers(emails: string[]): Promise<void> {
  await testDbQuery("DELETE FROM admin_users WHERE email IN (?)", [emails]);
}

export async function removeTestContainers(): Promise<void> {
  await removeContainersOf(TEST_PREFIX);
}

export async function removeContainersOf(prefix: string): Promise<void> {
  const containers = await docker.listContainers({ all: true, filters: { label: [`tryitnow.deployment=${prefix}`] } });
  await Promise.all(
    containers.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined),
    ),
  );
}

/** Starts Caddy and web for a test run; returns the function that stops them. */
export async function startStack(env: Record<string, string> = {}): Promise<() => Promise<void>> {
  await resetTestState();
  const caddy = startCaddy();
  await waitFor("test caddy", caddyUp, 20_000);
  const web = startWeb(env);
  await waitFor("test web /health", () => webAnswers(TEST_PORT), 60_000, 250);
  return async () => {
    await web.stop();
    await stopCaddy();
    await caddy.stop();
    await removeTestContainers();
  };
}
