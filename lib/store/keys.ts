/**
 * Redis key names (ARCHITECTURE.md, "Redis"). Keys of one app share the hash tag `{<app>}` so each
 * script touches one slot and runs on Valkey/Redis Cluster unchanged.
 */
function appKeysOf(prefix: string, app: string) {
  const base = `${prefix}{${app}}:`;
  return {
    app,
    ready: `${base}ready`,
    warming: `${base}warming`,
    expiry: `${base}expiry`,
    cfg: `${base}cfg`,
    /** Replenish health: consecutive failures, last error, back-off deadline. */
    health: `${base}health`,
    instPrefix: `${base}inst:`,
    inst: (id: string) => `${base}inst:${id}`,
    rateLimit: (ipKey: string, window: string) => `${base}rl:${ipKey}:${window}`,
    /** The app's drain cap (`acquire_rate`): a token bucket over all clients, `{tokens, at}`. */
    bucket: `${base}bucket`,
    /** A publishable key's own cap on this app (its `acquire_rate`): a token bucket like `bucket`. */
    keyBucket: (keyId: string) => `${base}bucket:key:${keyId}`,
    /** A proof-of-work answer already spent on a demo (its challenge's nonce), kept until the challenge expires. */
    answer: (id: string) => `${base}answer:${id}`,
    /** Challenges one client address fetched in one minute (the challenge endpoint's rate limit). */
    challenges: (ipKey: string, minute: number) => `${base}challenges:${ipKey}:${minute}`,
    /** The block list as it applies to this app: CIDR (as `parseBlock` writes it) → expiry (ms). */
    blocks: `${base}blocks`,
    /** Ended assignments waiting for the worker to write them to the abuse trail (JSON, oldest first). */
    trail: `${base}trail`,
  };
}
export type AppKeys = ReturnType<typeof appKeysOf>;

/** Built key sets kept per app; past this many (made-up slugs in a flood) they are built per call. */
const APP_KEY_CACHE = 1024;

/** Every key name of a deployment, built once per process from its prefix. */
export function redisKeys(prefix: string) {
  const perApp = new Map<string, AppKeys>();
  return {
    prefix,
    /** The keys of one app. */
    app(app: string): AppKeys {
      let keys = perApp.get(app);
      if (!keys) {
        keys = appKeysOf(prefix, app);
        if (perApp.size < APP_KEY_CACHE) perApp.set(app, keys);
      }
      return keys;
    },
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
    /** Keys the web made or revoked lately (`created:<hash>`, `revoked:<hash>` by time), so a sync that read MariaDB before cannot undo them. */
    apiKeyChanges: `${prefix}api-key-changes`,
    /** Sign-in attempts of one (email, client) pair; one hash tag, so the limiter is one script. */
    signinPair: (emailHash: string, ipKey: string) => `${prefix}{signin}:pair:${emailHash}:${ipKey}`,
    /** Sign-in attempts of one client address, whatever the email. */
    signinClient: (ipKey: string) => `${prefix}{signin}:client:${ipKey}`,
    signinAccount: (emailHash: string) => `${prefix}{signin}:account:${emailHash}`,
    /** Open status streams of one client address (its rate-limit key), counted per web process. */
    streams: (ipKey: string) => `${prefix}sse-counts:${ipKey}`,
    /** Metric snapshots the workers and the other web processes publish for a web's /metrics. */
    workerMetrics: `${prefix}worker-metrics`,
    /** Every worker's last heartbeat (JSON): its loops, the runtime's health, back-offs (ARCHITECTURE.md, "Supervision"). */
    heartbeats: `${prefix}heartbeats`,
    /** A web process's liveness, renewed while it runs; the supervisor deletes it the moment the process dies. */
    webLease: (processId: string) => `${prefix}web:${processId}`,
    /** Starts of each kind of process (web, worker), counted by the processes themselves. */
    starts: `${prefix}process-starts`,
    /** Processes the supervisor gave up restarting: name → GivenUp (JSON). */
    givenUp: `${prefix}given-up`,
    /** The dashboard's per-minute history: pool levels and acquisitions by outcome, per app (kept 25 h). */
    history: (minuteMs: number) => `${prefix}history:${minuteMs}`,
    /** Which worker reads the proxy's access log now (one at a time), and where it got to. */
    visitsLease: `${prefix}visits:lease`,
    visitsCursor: `${prefix}visits:cursor`,
    /** Beacons of one client address in one minute (the events endpoint's rate limit). */
    beacons: (ipKey: string, minute: number) => `${prefix}beacons:${ipKey}:${minute}`,
    /** The conversion labels an instance was credited with (capped per instance; kept as long as it can convert). */
    conversions: (id: string) => `${prefix}conversions:${id}`,
    /** Held while a worker changes the egress table (ARCHITECTURE.md, "Egress"): one writer at a time. */
    egressLock: `${prefix}egress:lock`,
    /** One worker at a time loads a seed into its template database (lib/demo-db/template.ts). */
    templateLock: (name: string) => `${prefix}dbtemplate:lock:${name}`,
    /** The latest failures (provision errors, OOM kills, dead containers), newest first, capped. */
    failures: `${prefix}failures`,
  };
}
export type RedisKeys = ReturnType<typeof redisKeys>;
