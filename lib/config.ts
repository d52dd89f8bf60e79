import { existsSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { parse as parseDotEnv } from "dotenv";
import { z } from "zod";
import { parseDurationMs } from "./duration";

const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      try {
        return parseDurationMs(value);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: (error as Error).message });
        return z.NEVER;
      }
    });

const int = (fallback: number) => z.coerce.number().int().min(0).default(fallback);
const list = z
  .string()
  .default("")
  .transform((value) =>
    value
      .split(",")
      .map((item) => item.trim())
      .filter(Boolean),
  );

/** An origin (scheme, host, optional port), written without a trailing slash. */
const origin = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        ctx.addIssue({ code: "custom", message: `"${value}" is not a URL (e.g. https://demo.example.com)` });
        return z.NEVER;
      }
      if (
        (url.protocol !== "http:" && url.protocol !== "https:") ||
        url.pathname !== "/" ||
        url.search ||
        url.hash ||
        url.username
      ) {
        ctx.addIssue({ code: "custom", message: `"${value}" must be an http(s) origin without path, query or credentials` });
        return z.NEVER;
      }
      return url.origin;
    });

/**
 * Every setting of web and worker (ARCHITECTURE.md, "Configuration"); names follow the reference
 * implementation's where it has one. Durations accept 90s, 10m, 1h.
 */
export const Config = z.object({
  NODE_ENV: z.string().default("production"),
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
  HOST: z.string().default("127.0.0.1"),
  /** `fast`: the public API, /health, /metrics and the widget skip Next.js's router (server.ts); `next`: everything through it. */
  API_DISPATCH: z.enum(["fast", "next"]).default("fast"),
  PORT: int(8080),
  /** The origin owners and visitors use for the web process: launch page, embed, sign-in, admin links. */
  PUBLIC_URL: origin("http://localhost:8080"),
  /** Scheme of the instances' URLs (`<scheme>://<id>.<BASE_DOMAIN>`), served by the proxy. */
  PUBLIC_SCHEME: z.enum(["http", "https"]).default("http"),
  BASE_DOMAIN: z.string().default("localhost"),
  PROXY_PORT: int(8081),
  /**
   * TLS on PROXY_PORT (docs/production.md): the certificate (PEM, full chain) and its key, files the
   * operator provides and renews; the proxy picks a renewed file up within RECONCILE_INTERVAL. It
   * must cover `*.<BASE_DOMAIN>`, and PUBLIC_URL's host when PUBLIC_URL is on the proxy.
   */
  PROXY_TLS_CERT: z.string().default(""),
  PROXY_TLS_KEY: z.string().default(""),
  /**
   * With TLS: a plain-HTTP port of the proxy that redirects to https and takes the containers'
   * conversion calls (TRYIT_API_URL); 0: none (then CONTAINER_API_URL must say where they go).
   */
  PROXY_HTTP_PORT: int(0),
  /**
   * Go's soft memory limit for the bundled Caddy (its GOMEMLIMIT, set where scripts/lib.sh and the
   * proxy's unit start it): without one its resident memory keeps what every route change's reload
   * freed (ARCHITECTURE.md, "Supervision").
   */
  PROXY_MEMORY_LIMIT: z
    .string()
    .default("64MiB")
    .refine((value) => /^[1-9][0-9]*(MiB|GiB)$/.test(value), "a size in MiB or GiB, e.g. 64MiB"),
  /** A secret key with every scope; long enough that guessing it is hopeless. */
  API_KEY: z
    .string()
    .default("")
    .refine((value) => value === "" || value.length >= 24, "at least 24 characters (e.g. openssl rand -base64 32)"),
  /** The deployment's one secret; sessions and instance tokens use keys derived from it. Unset: generated once, kept in MariaDB. */
  AUTH_SECRET: z
    .string()
    .default("")
    .refine((value) => value === "" || value.length >= 32, "at least 32 characters (e.g. openssl rand -base64 32)"),
  /** With ADMIN_PASSWORD: the admin a first start creates (and whose password follows the variable when it changes). */
  ADMIN_EMAIL: z.string().default(""),
  ADMIN_PASSWORD: z
    .string()
    .default("")
    .refine((value) => value === "" || value.length >= 12, "at least 12 characters"),
  /** How long a dashboard sign-in lasts. */
  ADMIN_SESSION_TTL: duration("12h"),
  KEY_CACHE_TTL: duration("5s"),
  SSE_MAX_PER_IP: int(10),
  /** Front proxies of the operator's own (in front of the web's TCP listener) whose X-Forwarded-For is believed. */
  TRUSTED_PROXIES: list,
  /**
   * The web's listener for the bundled proxy (Caddy): a Unix socket, mode 0600. Only requests that
   * arrive on it have their X-Forwarded-For believed, and none of them is ever a local client.
   * Unset: `.data/run/sockets/web-<PORT>.sock`.
   */
  WEB_PROXY_SOCKET: z.string().default(""),
  /**
   * Web processes the supervisor runs (ARCHITECTURE.md, "Supervision"). Above 1, the bundled proxy
   * serves HOST:PORT too and each process listens on sockets of its own (`WEB_INDEX`).
   */
  WEB_PROCESSES: z.preprocess(
    (value) => (value === "" ? undefined : value),
    z.coerce.number().int().min(1).max(64).default(availableParallelism()),
  ),
  /** Which of the supervisor's web processes this is (1…WEB_PROCESSES); 0: a web started on its own, on HOST:PORT. */
  WEB_INDEX: int(0),
  /** Worker processes the supervisor runs. */
  WORKER_PROCESSES: z.coerce.number().int().min(1).max(64).default(1),
  /** /health is `down` (503) once a worker was seen and none has been alive for this long. */
  WORKER_DOWN_AFTER: duration("30s"),
  /** How long the web reuses one /health evaluation: a flood of /health never reaches MariaDB, NATS or Caddy per request. */
  HEALTH_CACHE: duration("1s"),
  /** IPv6 clients share limits by this prefix length (one subscriber usually holds a /56 or /48). */
  IPV6_PREFIX_LENGTH: z.coerce.number().int().min(32).max(128).default(56),
  MAX_BODY_BYTES: int(64 * 1024),

  VALKEY_ADDR: z.string().default("127.0.0.1:6379"),
  VALKEY_PASSWORD: z.string().default(""),
  VALKEY_DB: int(0),
  VALKEY_PREFIX: z
    .string()
    .regex(/^[a-z0-9_.:-]{1,32}$/i)
    .default("tin:"),
  DATABASE_URL: z.string().default("mysql://tryitnow:tryitnow@127.0.0.1:3306/tryitnow"),
  NATS_URL: z.string().default("nats://127.0.0.1:4222"),
  CADDY_ADMIN_URL: z.string().default("http://127.0.0.1:2019"),
  /** Caddy's access log of the instances (a file it writes, the worker reads): the "visited" step. */
  PROXY_ACCESS_LOG: z.string().default(".data/caddy/access.log"),
  DOCKER_SOCKET: z.string().default("/var/run/docker.sock"),

  CONTAINER_MODE: z.enum(["docker"]).default("docker"),
  CONTAINER_IMAGE: z.string().default("tryitnow/hello:latest"),
  CONTAINER_PORT: int(8080),
  CONTAINER_NETWORK: z.string().default("tin-net"),
  /**
   * Resolvers the containers are given, and the only DNS servers the egress policy lets them ask
   * (public mode). Unset: Docker's choice, the host's own resolvers (/etc/resolv.conf).
   */
  CONTAINER_DNS: list,
  /**
   * The kernel's egress rules (nftables) for the instances (ARCHITECTURE.md, "Egress"). "off" runs
   * instances unconfined (the bench's baseline; a loud warning at start) — never in production.
   */
  EGRESS_RULES: z.enum(["on", "off"]).default("on"),
  /**
   * The API's address as containers reach it (`TRYIT_API_URL`, for reporting conversions). Unset:
   * `http://<the network's gateway>:<PROXY_PORT>` — the proxy on the host, which passes a
   * conversion call to the web.
   */
  CONTAINER_API_URL: z
    .string()
    .default("")
    .refine((value) => value === "" || /^https?:\/\/[^/?#@\s]+$/.test(value), "an http(s) origin, e.g. http://172.17.0.1:8081"),
  /**
   * The demo database server (ARCHITECTURE.md, "Demo databases"): a MariaDB of its own for the
   * instances' databases, never the product's. The worker administers it through this Unix socket
   * (as its root, by socket authentication), or through DEMO_DB_URL (mysql://admin:password@host:port)
   * when it runs elsewhere; both empty: no app may have a database.
   */
  DEMO_DB_SOCKET: z.string().default(".data/run/demo-db.sock"),
  DEMO_DB_URL: z
    .string()
    .default("")
    .refine((value) => value === "" || /^mysql:\/\/[^/?#\s]+\/?$/.test(value), "mysql://user:password@host:port"),
  /** Where instances reach the demo database server; unset: the host's address on Docker's bridge docker0. */
  DEMO_DB_HOST: z
    .string()
    .default("")
    .refine((value) => value === "" || /^\d{1,3}(\.\d{1,3}){3}$/.test(value), "an IPv4 address"),
  DEMO_DB_PORT: int(3307),
  /** The only folder an app's `database_seed` may name a file in (uploads land here too). */
  SEEDS_DIR: z.string().default(".data/seeds"),
  /** Largest seed an owner may upload in the dashboard (MB); the API's bodies stay at MAX_BODY_BYTES. */
  SEED_UPLOAD_MAX_MB: z.coerce.number().int().min(1).max(4096).default(64),
  /** Longest a seed may take to load into its template. */
  SEED_TIMEOUT: duration("5m"),
  HEALTH_PATH: z.string().default("/"),
  HEALTH_TIMEOUT: duration("30s"),
  CONTAINER_MEMORY_MB: int(128),
  CONTAINER_CPUS: z.coerce.number().positive().default(0.5),
  CONTAINER_PIDS_LIMIT: int(128),

  POOL_TARGET_SIZE: int(3),
  POOL_MIN_SIZE: int(1),
  POOL_MAX_SIZE: int(20),
  POOL_DEFAULT_TTL: duration("30m"),
  POOL_MAX_TTL: duration("2h"),
  /** Most total time an instance may live from its assignment, extensions included. */
  POOL_MAX_LIFETIME: duration("4h"),
  /** Most extensions per instance. */
  POOL_MAX_EXTENSIONS: int(6),
  POOL_REPLENISH_INTERVAL: duration("1s"),
  PROVISION_CONCURRENCY: int(8),
  RECONCILE_INTERVAL: duration("30s"),
  APP_SYNC_INTERVAL: duration("2s"),
  WORKER_LEASE: duration("5s"),
  /** A cleanup job not acknowledged this long after delivery goes to another worker (above the slowest cleanup). */
  JOB_ACK_WAIT: duration("30s"),
  /** Deliveries of a cleanup job before it becomes a dead letter. */
  JOB_MAX_DELIVER: int(5),

  RATE_LIMIT_HOURLY: int(10),
  RATE_LIMIT_DAILY: int(50),
  CHALLENGE_RATE_PER_MINUTE: int(30),
  CHALLENGE_TTL: duration("10m"),
  /** Funnel events (ARCHITECTURE.md, "Funnel analytics"); "off" publishes none (the acquire bench compares both). */
  ANALYTICS_EVENTS: z.enum(["on", "off"]).default("on"),
  /** Embed beacons (impression, click) one client address may send per minute; past it, 429. */
  BEACON_RATE_PER_MINUTE: int(120),
  /** Days raw events and instance sessions are kept; hourly rollups are kept (ARCHITECTURE.md, "Funnel analytics"). */
  EVENTS_RETENTION_DAYS: z.coerce.number().int().min(7).default(90),
  ABUSE_TRAIL_DAYS: z.coerce.number().int().min(1).max(365).default(7),
  /** The funnel events' stream on NATS keeps at most this many bytes, dropping the oldest (a flood cannot fill the disk). */
  EVENTS_STREAM_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024 * 1024)
    .default(512 * 1024 * 1024),
  SSE_MAX_DURATION: duration("1h"),
  SSE_HEARTBEAT: duration("15s"),
});
export type Config = z.infer<typeof Config>;

/**
 * Reads `.env` (if present) under the environment: a variable already set wins. dotenv's parser
 * handles quotes, `export`, comments after a value and indented comment lines, as `.env.example`
 * has (Node 20's `util.parseEnv` takes an indented comment line for part of the next name).
 */
export function readDotEnv(path: string): Record<string, string> {
  if (!existsSync(path)) return {};
  return parseDotEnv(readFileSync(path, "utf8"));
}

/** Settings that are wrong together, each as `NAME: why`. */
function crossChecks(config: Config): string[] {
  const problems: string[] = [];
  if (config.WEB_INDEX > config.WEB_PROCESSES)
    problems.push(`WEB_INDEX: ${config.WEB_INDEX} is above WEB_PROCESSES (${config.WEB_PROCESSES})`);
  if (Boolean(config.PROXY_TLS_CERT) !== Boolean(config.PROXY_TLS_KEY))
    problems.push(`${config.PROXY_TLS_CERT ? "PROXY_TLS_KEY" : "PROXY_TLS_CERT"}: PROXY_TLS_CERT and PROXY_TLS_KEY go together`);
  if (!config.PROXY_TLS_CERT) return problems;
  if (config.PUBLIC_SCHEME !== "https")
    problems.push("PUBLIC_SCHEME: the proxy serves TLS (PROXY_TLS_CERT), so the instances' URLs are https");
  const publicUrl = new URL(config.PUBLIC_URL);
  if (publicUrl.protocol === "http:" && Number(publicUrl.port || 80) === config.PROXY_PORT)
    problems.push("PUBLIC_URL: it points at the proxy, which serves TLS (PROXY_TLS_CERT): https://…");
  if (config.PROXY_HTTP_PORT === config.PROXY_PORT) problems.push("PROXY_HTTP_PORT: must differ from PROXY_PORT");
  if (!config.PROXY_HTTP_PORT && !config.CONTAINER_API_URL)
    problems.push(
      "PROXY_HTTP_PORT: with TLS the containers reach the API on a plain-HTTP port of the proxy (e.g. 80), or set CONTAINER_API_URL",
    );
  return problems;
}

/**
 * The configuration of this process: its environment over `.env` in the working directory. Given
 * an environment (a test's, a bench's), exactly that one: no `.env`, so a developer's own settings
 * never reach a unit test.
 */
export function loadConfig(env?: Record<string, string | undefined>): Config {
  const merged = env ?? { ...readDotEnv(".env"), ...process.env };
  const parsed = Config.safeParse(merged);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new Error(`invalid configuration:\n  ${problems.join("\n  ")}`);
  }
  const config = parsed.data;
  const problems = crossChecks(config);
  if (problems.length) throw new Error(`invalid configuration:\n  ${problems.join("\n  ")}`);
  if (config.PROXY_TLS_CERT) {
    // Caddy reads them from its own working directory: absolute paths.
    config.PROXY_TLS_CERT = resolve(/*turbopackIgnore: true*/ config.PROXY_TLS_CERT);
    config.PROXY_TLS_KEY = resolve(/*turbopackIgnore: true*/ config.PROXY_TLS_KEY);
  }
  if (config.DEMO_DB_SOCKET) config.DEMO_DB_SOCKET = resolve(/*turbopackIgnore: true*/ config.DEMO_DB_SOCKET);
  config.SEEDS_DIR = resolve(/*turbopackIgnore: true*/ config.SEEDS_DIR);
  config.WEB_PROXY_SOCKET = resolve(
    /*turbopackIgnore: true*/ config.WEB_PROXY_SOCKET || `.data/run/sockets/web-${config.PORT}.sock`,
  );
  return config;
}
