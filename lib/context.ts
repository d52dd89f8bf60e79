import { resolve } from "node:path";
import type { NatsConnection } from "@nats-io/transport-node";
import { type BusNames, busNames, connectBus } from "./bus/nats";
import { type Clock, systemClock } from "./clock";
import type { Config } from "./config";
import { createDb, type Db } from "./db/client";
import { demoDbEndpoint } from "./demo-db/server";
import { StateLog } from "./dependency";
import { EgressFirewall, hostResolvers } from "./egress/firewall";
import { webUpstreams } from "./http/web-listeners";
import { createLogger, type Logger } from "./log";
import { CaddyRoutes } from "./proxy/caddy";
import type { RouteTable } from "./proxy/types";
import { containerApiPort, publicHostOnProxy } from "./public-url";
import { DockerRuntime } from "./runtime/docker";
import type { ContainerRuntime } from "./runtime/types";
import { type RedisKeys, redisKeys } from "./store/keys";
import { withLock } from "./store/lock";
import { createRedis, type Redis } from "./store/redis";

/** Everything a verb of lib/ needs, built once per process (tests build their own). */
export interface Ctx {
  config: Config;
  log: Logger;
  redis: Redis;
  /** Every Redis key name, built once: `keys.app(slug)` for an app's keys. */
  keys: RedisKeys;
  db: Db;
  runtime: ContainerRuntime;
  routes: RouteTable;
  /** The time of day every verb reads (a test's ManualClock in the worker-logic tests). */
  clock: Clock;
  /** The kernel's egress rules for the instances (workers apply them). */
  egress: EgressFirewall;
  /** The NATS connection, made on first use (jobs and events land on it). */
  bus(): Promise<NatsConnection>;
  /** This deployment's stream and subject names. */
  busNames: BusNames;
  /**
   * A service this context keeps for its process, made on first use (`make`) under its name and the
   * same object ever after: one per context, so a second context (a test's other deployment) never
   * shares a cache, a buffer or a hub with the first. Module state on globalThis is kept only for
   * the web's context itself (lib/http/web-context.ts), which route bundles that each evaluate a
   * module of their own must find.
   */
  service<T>(name: ServiceName, make: () => T): T;
  /** The service of that name if one was made, without making it (a shutdown's flush). */
  existing<T>(name: ServiceName): T | undefined;
  close(): Promise<void>;
}

/** The services a context keeps (`Ctx.service`), each named by the module that makes it. */
export type ServiceName =
  | "events" // lib/events/publish.ts: the funnel events' buffer and its timer
  | "key-cache" // lib/keys/authenticate.ts: the API keys' mirror, read from Redis
  | "key-usage" // lib/keys/usage.ts: the keys used since the last write of last_used_at
  | "watch-hub" // lib/pool/watch.ts: this process's status streams and their subscriber
  | "secrets" // lib/secrets.ts: keys derived from the root secret
  | "gate-secrets" // lib/gate/challenge.ts: the browser check's HMAC secrets
  | "embed-assets" // lib/embed/asset.ts: the built widget bundles
  | "demo-db" // lib/demo-db/server.ts: the demo database server's admin pool
  | "seed-versions" // lib/demo-db/template.ts: each seed file's version, per size and time
  | "templates"; // lib/demo-db/template.ts: the templates found ready (or their seed's failure)

/** The slots behind `Ctx.service` and `Ctx.existing`, for a context (or a unit test's partial one). */
export function serviceSlots(): Pick<Ctx, "service" | "existing"> {
  const made = new Map<ServiceName, unknown>();
  return {
    service<T>(name: ServiceName, make: () => T): T {
      if (!made.has(name)) made.set(name, make());
      return made.get(name) as T;
    },
    existing<T>(name: ServiceName): T | undefined {
      return made.get(name) as T | undefined;
    },
  };
}

/** What a test may put in a context instead of the real parts: an in-memory runtime and routes, a clock. */
export type CtxParts = Partial<Pick<Ctx, "runtime" | "routes" | "clock">>;

export function createContext(config: Config, service: string, parts: CtxParts = {}): Ctx {
  const log = createLogger(config.LOG_LEVEL, service);
  const redis = createRedis(config);
  // ioredis reconnects on its own (with back-off); the log says when Redis went and when it is back.
  const redisState = new StateLog(log, "redis");
  redis.on("error", (error) => redisState.failed(error));
  redis.on("ready", () => redisState.ok());
  const { db, pool } = createDb(config.DATABASE_URL);
  let bus: Promise<NatsConnection> | undefined;
  const keys = redisKeys(config.VALKEY_PREFIX);
  // The web faces the internet and holds no root-equivalent socket: the workers report the
  // runtime's health with their heartbeats (ARCHITECTURE.md, "Supervision").
  const runtime =
    parts.runtime ??
    (service === "web"
      ? withoutRuntime()
      : new DockerRuntime({
          socketPath: config.DOCKER_SOCKET,
          network: config.CONTAINER_NETWORK,
          deployment: config.VALKEY_PREFIX,
          dns: config.CONTAINER_DNS,
        }));
  const slots = serviceSlots();
  return {
    config,
    log,
    redis,
    keys,
    db,
    runtime,
    clock: parts.clock ?? systemClock,
    egress: new EgressFirewall({
      runtime,
      log,
      baseNetwork: config.CONTAINER_NETWORK,
      apiPort: containerApiPort(config),
      dnsServers: config.CONTAINER_DNS.length ? config.CONTAINER_DNS : hostResolvers(),
      demoDb: demoDbEndpoint(config),
      enabled: config.EGRESS_RULES === "on",
      lock: (task) => withLock(redis, keys.egressLock, task),
    }),
    routes:
      parts.routes ??
      new CaddyRoutes({
        adminUrl: config.CADDY_ADMIN_URL,
        baseDomain: config.BASE_DOMAIN,
        proxyPort: config.PROXY_PORT,
        tls: config.PROXY_TLS_CERT
          ? { certificate: config.PROXY_TLS_CERT, key: config.PROXY_TLS_KEY, httpPort: config.PROXY_HTTP_PORT }
          : null,
        // The web's own listeners for the proxy (server.ts): requests through them are never local clients.
        webUpstreams: webUpstreams(config).proxy,
        front: webUpstreams(config).front,
        publicHost: publicHostOnProxy(config),
        accessLog: resolve(config.PROXY_ACCESS_LOG),
      }),
    busNames: busNames(config.VALKEY_PREFIX, config.EVENTS_STREAM_MAX_BYTES),
    ...slots,
    bus() {
      bus ??= connectBus(config.NATS_URL).catch((error) => {
        bus = undefined; // try again on next use
        throw error;
      });
      return bus;
    },
    async close() {
      redis.disconnect();
      await pool.end();
      await slots.existing<{ close(): Promise<void> }>("demo-db")?.close();
      if (bus) await (await bus.catch(() => undefined))?.close();
    },
  };
}

/** The web's runtime: every call fails, so no code path of the web can reach Docker unnoticed. */
function withoutRuntime(): ContainerRuntime {
  return new Proxy({} as ContainerRuntime, {
    get: (_target, name) =>
      name === "then"
        ? undefined
        : () => Promise.reject(new Error(`the web process has no container runtime (called ${String(name)})`)),
  });
}
