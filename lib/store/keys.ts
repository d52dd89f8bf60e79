/**
 * Redis key names (DESIGN §4). Keys of one app share the hash tag `{<app>}` so each script touches
 * one slot and runs on Valkey/Redis Cluster unchanged.
 */
export function appKeys(prefix: string, app: string) {
  const base = `${prefix}{${app}}:`;
  return {
    ready: `${base}ready`,
    warming: `${base}warming`,
    expiry: `${base}expiry`,
    cfg: `${base}cfg`,
    /** Released ids waiting for a worker to remove their container and route. */
    trash: `${base}trash`,
    /** Replenish health: consecutive failures, last error, back-off deadline. */
    health: `${base}health`,
    instPrefix: `${base}inst:`,
    inst: (id: string) => `${base}inst:${id}`,
    rateLimit: (ipKey: string, window: string) => `${base}rl:${ipKey}:${window}`,
  };
}
export type AppKeys = ReturnType<typeof appKeys>;

export function globalKeys(prefix: string) {
  return {
    /** The app of an instance, so GET/extend/release by id find its keys. */
    loc: (id: string) => `${prefix}loc:${id}`,
    locPattern: `${prefix}loc:*`,
    /** Every app slug that has (or had) pool state, so the worker can drain deleted apps. */
    apps: `${prefix}apps`,
    /** Pub/sub channel of instance changes, read by the SSE hub of every web process. */
    events: `${prefix}events`,
    /** A worker's liveness lease; warming records name their worker. */
    workerLease: (workerId: string) => `${prefix}worker:${workerId}`,
    /** Active API keys: SHA-256 → record (JSON), mirrored from MariaDB. */
    apiKeys: `${prefix}api-keys`,
    /** The secret that signs instance tokens when AUTH_SECRET is not set (shared by all processes). */
    tokenSecret: `${prefix}token-secret`,
    /** Open status streams of one client address (its rate-limit key), leased by the web processes. */
    streams: (ipKey: string) => `${prefix}sse:${ipKey}`,
    /** Metric snapshots the workers publish for the web's /metrics. */
    workerMetrics: `${prefix}worker-metrics`,
  };
}
export type GlobalKeys = ReturnType<typeof globalKeys>;
