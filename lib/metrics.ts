import client from "prom-client";

/**
 * The process's Prometheus metrics. Route bundles may evaluate this module more than once in one
 * process, so every metric is looked up in the shared registry before it is created.
 */
const registry = client.register;

function counter(name: string, help: string, labelNames: string[] = []) {
  return (registry.getSingleMetric(name) as client.Counter<string>) ?? new client.Counter({ name, help, labelNames });
}
function histogram(name: string, help: string, labelNames: string[], buckets: number[]) {
  return (
    (registry.getSingleMetric(name) as client.Histogram<string>) ?? new client.Histogram({ name, help, labelNames, buckets })
  );
}
/**
 * `aggregator`: how /metrics merges this gauge across processes (lib/metrics-merge.ts): summed by
 * default; `first` takes the serving process's own fresh value, `max` a figure every process reads alike.
 */
function gauge(name: string, help: string, labelNames: string[], aggregator: client.Aggregator = "sum") {
  return (registry.getSingleMetric(name) as client.Gauge<string>) ?? new client.Gauge({ name, help, labelNames, aggregator });
}

export const metrics = {
  registry,
  acquisitions: counter(
    "tin_acquisitions_total",
    "Acquire attempts by app and result (ok, exhausted, capped, challenge, blocked, rate_limited, paused, unknown_app).",
    ["app", "result"],
  ),
  acquireDuration: histogram(
    "tin_acquire_duration_seconds",
    "Time of the acquire verb (one Redis round trip).",
    ["app"],
    [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
  ),
  pool: gauge("tin_pool_instances", "Instances per app and state (ready, warming, assigned).", ["app", "state"], "first"),
  provisionDuration: histogram(
    "tin_provision_duration_seconds",
    "Time from reserve to ready: create, health-check and route one instance.",
    ["app"],
    [0.1, 0.25, 0.5, 0.75, 1, 2, 5, 10, 30],
  ),
  databaseCloneDuration: histogram(
    "tin_database_clone_seconds",
    "Time to make one instance's database: the template cloned, its user created, the setup run.",
    ["app"],
    [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
  ),
  provisionFailures: counter("tin_provision_failures_total", "Provisions that failed (create, health or route).", ["app"]),
  released: counter("tin_instances_released_total", "Instances released by their visitor.", ["app"]),
  expired: counter("tin_instances_expired_total", "Instances whose TTL passed and were reaped.", ["app"]),
  failed: counter("tin_instances_failed_total", "Instances whose container was OOM-killed or died, by reason.", [
    "app",
    "reason",
  ]),
  reconcileDuration: histogram(
    "tin_reconcile_duration_seconds",
    "Time of one reconcile pass.",
    [],
    [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
  ),
  jobs: counter("tin_jobs_total", "Jobs handled by the workers, by kind and outcome (ok, retry, dead).", ["kind", "outcome"]),
  eventsDropped: counter("tin_events_dropped_total", "Analytics events lost because the bus could not take them, by reason.", [
    "reason",
  ]),
  eventsWritten: counter("tin_events_written_total", "Analytics events written to MariaDB by the workers.", []),
  visitsRead: counter(
    "tin_visits_read_total",
    "Requests to instances read from the proxy's access log and credited to sessions.",
    [],
  ),
  beacons: counter("tin_beacons_total", "Embed beacons by outcome (counted, bot, limited).", ["outcome"]),
  jobsPending: gauge("tin_jobs_pending", "Jobs waiting or in hand on the bus, by kind.", ["kind"], "max"),
  cleanups: counter("tin_cleanups_total", "Instances whose container and route were removed, by outcome.", ["outcome"]),
  reconciled: counter("tin_reconcile_actions_total", "Repairs made by the reconciler, by kind.", ["kind"]),
  httpRequests: counter("tin_http_requests_total", "HTTP requests by route, method and status.", ["route", "method", "status"]),
  sseStreams: gauge("tin_sse_streams", "Open SSE status streams (summed over the web processes).", []),
  starts: gauge(
    "tin_process_starts",
    "Starts of each kind of process (web, worker) since the deployment's Redis was new, counted by the processes in Redis: a rising figure is a process being restarted.",
    ["process"],
    "max",
  ),
  webProcesses: gauge("tin_web_processes", "Web processes whose liveness lease is held.", [], "max"),
};

if (!registry.getSingleMetric("process_cpu_seconds_total")) client.collectDefaultMetrics({ register: registry });
