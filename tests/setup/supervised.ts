/**
 * A deployment of its own run by the real supervisor (scripts/supervise.ts): its own Caddy, Redis
 * prefix, database, Docker network and ports, with TEST_ENV's fast intervals. Used by the tests of
 * supervision and of churn (tests/supervise.test.ts, tests/churn.test.ts).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { loadConfig } from "../../lib/config";
import { tableName } from "../../lib/egress/policy";
import { redisKeys } from "../../lib/store/keys";
import { docker, type Proc, resetDeployment, startProcess, TEST_ENV, waitFor } from "./stack";

export interface SupervisedOptions {
  /** A short name: the folder under .data, the database suffix's user, the log names. */
  name: string;
  port: number;
  proxyPort: number;
  caddyAdmin: string;
  prefix: string;
  network: string;
  env?: Record<string, string>;
  /** Caddy's GOMEMLIMIT (Go's soft memory limit), as scripts/lib.sh sets PROXY_MEMORY_LIMIT; none when absent. */
  caddyMemoryLimit?: string;
}

export const SUPERVISED_API_KEY = "supervise-secret-key-0123456789";

/** The database every supervised deployment uses (scripts/test.sh makes it); each has its own prefix, so apps are shared only by name. */
export const supervisedDatabaseUrl = (() => {
  const url = new URL(loadConfig().DATABASE_URL);
  url.pathname = `${url.pathname}_supervise`;
  return process.env.SUPERVISE_DATABASE_URL ?? url.toString();
})();

export function supervisedStack(options: SupervisedOptions) {
  const data = `.data/test-${options.name}`;
  const web = `http://127.0.0.1:${options.port}`;
  const keys = redisKeys(options.prefix);
  const env: Record<string, string> = {
    ...TEST_ENV,
    PORT: String(options.port),
    PROXY_PORT: String(options.proxyPort),
    PUBLIC_URL: `http://localhost:${options.port}`,
    CADDY_ADMIN_URL: `http://${options.caddyAdmin}`,
    PROXY_ACCESS_LOG: `${data}/access.log`,
    WEB_PROXY_SOCKET: `${data}/sockets/web.sock`,
    VALKEY_PREFIX: options.prefix,
    DATABASE_URL: supervisedDatabaseUrl,
    CONTAINER_NETWORK: options.network,
    API_KEY: SUPERVISED_API_KEY,
    WEB_PROCESSES: "2",
    ...options.env,
  };
  let caddy: Proc | undefined;
  let supervisor: Proc | undefined;

  /** A supervisor of this deployment (more than one may run, each with its own pid and log folders). */
  const supervise = (name: string, extraEnv: Record<string, string> = {}, args: string[] = []): Proc =>
    startProcess(
      name,
      process.execPath,
      ["--import", "tsx", "scripts/supervise.ts", "--run-dir", `${data}/run-${name}`, "--logs", `${data}/logs-${name}`, ...args],
      {
        ...env,
        ...extraEnv,
      },
    );

  /** The pid of a supervised process (`web-1`, `worker-1`) from its supervisor's pid file. */
  const pidOf = (process: string, supervisorName = "supervisor"): number | null => {
    const file = `${data}/run-${supervisorName}/${process}.pid`;
    return existsSync(file) ? Number(readFileSync(file, "utf8").trim()) : null;
  };

  async function api(path: string, init: RequestInit = {}) {
    const response = await fetch(`${web}${path}`, {
      ...init,
      headers: { "X-API-Key": SUPERVISED_API_KEY, "content-type": "application/json", ...init.headers },
    });
    const text = await response.text();
    let json: any = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    return { status: response.status, json, text };
  }

  return {
    data,
    web,
    keys,
    env,
    supervise,
    pidOf,
    api,
    async start() {
      await resetDeployment(options.prefix, supervisedDatabaseUrl);
      caddy = startProcess(
        `caddy-${options.name}`,
        "bash",
        [
          "-c",
          `mkdir -p ${data}/caddy && echo '{"admin":{"listen":"${options.caddyAdmin}"}}' > ${data}/caddy/bootstrap.json && exec caddy run --config ${data}/caddy/bootstrap.json`,
        ],
        {
          XDG_DATA_HOME: `${data}/caddy`,
          XDG_CONFIG_HOME: `${data}/caddy`,
          ...(options.caddyMemoryLimit ? { GOMEMLIMIT: options.caddyMemoryLimit } : {}),
        },
      );
      await waitFor(
        `the ${options.name} stack's Caddy`,
        async () => (await fetch(`http://${options.caddyAdmin}/config/`)).ok,
        20_000,
        100,
      );
      supervisor = supervise("supervisor");
      await waitFor(
        `the ${options.name} stack's web through the proxy on HOST:PORT`,
        async () => (await api("/health")).json?.status === "ok",
        90_000,
        250,
      );
    },
    async stop() {
      await supervisor?.stop();
      await fetch(`http://${options.caddyAdmin}/stop`, { method: "POST" }).catch(() => undefined);
      await caddy?.stop();
      await resetDeployment(options.prefix, supervisedDatabaseUrl);
      await docker
        .getNetwork(options.network)
        .remove()
        .catch(() => undefined);
      spawnSync("nft", ["delete", "table", "inet", tableName(options.network)]);
    },
  };
}
