import { resolve } from "node:path";
import { StateLog } from "./dependency";
import type { NatsConnection } from "@nats-io/transport-node";
import { type BusNames, busNames, connectBus } from "./bus/nats";
import type { Config } from "./config";
import { createDb, type Db } from "./db/client";
import { EgressFirewall, hostResolvers } from "./egress/firewall";
import { createLogger, type Logger } from "./log";
import { webUpstreams } from "./http/web-listeners";
import { CaddyRoutes } from "./proxy/caddy";
import { containerApiPort, publicHostOnProxy } from "./public-url";
import type { RouteTable } from "./proxy/types";
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
  /** The kernel's egress rules for the instances (workers apply them). */
  egress: EgressFirewall;
  /** The NATS connection, made on first use (jobs and events land on it). */
  bus(): Promise<NatsConnection>;
  /** This deployment's stream and subject names. */
  busNames: BusNames;
  close(): Promise<void>;
}

export function createContext(config: Config, service: string): Ctx {
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
    service === "web"
      ? withoutRuntime()
      : new DockerRuntime({
          socketPath: config.DOCKER_SOCKET,
          network: config.CONTAINER_NETWORK,
          deployment: config.VALKEY_PREFIX,
          dns: config.CONTAINER_DNS,
        });
  return {
    config,
    log,
    redis,
    keys,
    db,
    runtime,
    egress: new EgressFirewall({
      runtime,
      log,
      baseNetwork: config.CONTAINER_NETWORK,
      apiPort: containerApiPort(config),
      dnsServers: config.CONTAINER_DNS.length ? config.CONTAINER_DNS : hostResolvers(),
      enabled: config.EGRESS_RULES === "on",
      lock: (task) => withLock(redis, keys.egressLock, task),
    }),
    routes: new CaddyRoutes({
      adminUrl: config.CADDY_ADMIN_URL,
      baseDomain: config.BASE_DOMAIN,
      proxyPort: config.PROXY_PORT,
      tls: config.PROXY_TLS_CERT ? { certificate: config.PROXY_TLS_CERT, key: config.PROXY_TLS_KEY, httpPort: config.PROXY_HTTP_PORT } : null,
      // The web's own listeners for the proxy (server.ts): requests through them are never local clients.
      webUpstreams: webUpstreams(config).proxy,
      front: webUpstreams(config).front,
      publicHost: publicHostOnProxy(config),
      accessLog: resolve(config.PROXY_ACCESS_LOG),
    }),
    busNames: busNames(config.VALKEY_PREFIX, config.EVENTS_STREAM_MAX_BYTES),
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
      if (bus) await (await bus.catch(() => undefined))?.close();
    },
  };
}

/** The web's runtime: every call fails, so no code path of the web can reach Docker unnoticed. */
function withoutRuntime(): ContainerRuntime {
  return new Proxy({} as ContainerRuntime, {
    get: (_target, name) =>
      name === "then" ? undefined : () => Promise.reject(new Error(`the web process has no container runtime (called ${String(name)})`)),
  });
}
