import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import { DependencyError } from "../dependency";
import { FRONT_FORWARDED_HEADER, FRONT_PEER_HEADER } from "../http/web-listeners";
import { INSTANCE_ID } from "../ids";
import type { Route, RouteTable } from "./types";

const GROUP_ID = "tin-instances";
const SERVER = "tryitnow";
const routeId = (id: string) => `tin-${id}`;
/** The access logger of the instances' server; its file feeds the "visited" step (lib/events/visits.ts). */
const ACCESS_LOGGER = "tin_instances";
/** Caddy's own rotation of that file: the reader follows a rotated file to its end (ARCHITECTURE.md, "Funnel analytics"). */
const ACCESS_LOG_ROLL_MB = 50;

interface CaddyOptions {
  adminUrl: string;
  baseDomain: string;
  proxyPort: number;
  /** Where the proxy sends requests for `publicHost`: the web processes' sockets for the proxy (`unix/<path>`). */
  webUpstreams: string[];
  /** Several web processes: the proxy also serves HOST:PORT (`listen`), to their sockets for it. */
  front: { listen: string; upstreams: string[] } | null;
  /** PUBLIC_URL's host when PUBLIC_URL points at the proxy; null: the proxy serves instance hosts only. */
  publicHost: string | null;
  /**
   * TLS on proxyPort with the operator's certificate files, and a plain-HTTP port that redirects
   * to https and takes the containers' conversion calls; null: plain HTTP on proxyPort.
   */
  tls?: { certificate: string; key: string; httpPort: number } | null;
  /** Absolute path of the instances' access log (Caddy's `file` writer). */
  accessLog: string;
  timeoutMs?: number;
}

class CaddyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Caddy answers an unknown @id with 404 (or, in some versions, 400 "unknown object ID"). */
function isMissing(error: unknown): boolean {
  return error instanceof CaddyError && (error.status === 404 || /unknown object ID/i.test(error.message));
}

/** Request headers that carry credentials: never written to the access log. */
const CREDENTIAL_HEADERS = ["Authorization", "Proxy-Authorization", "Cookie", "X-Api-Key", "X-Instance-Token"];

/**
 * The encoder of the access log and of Caddy's own log (its errors carry the request too — "no
 * upstreams available", a dial that failed — and would write a client's key to the journal): JSON
 * without credential headers (request and response) and without query strings (a stream's
 * `?key=…&token=…`, an app's own tokens in links).
 */
const LOG_ENCODER = {
  format: "filter",
  wrap: { format: "json" },
  fields: {
    ...Object.fromEntries(CREDENTIAL_HEADERS.map((name) => [`request>headers>${name}`, { filter: "delete" }])),
    "resp_headers>Set-Cookie": { filter: "delete" },
    "request>uri": { filter: "regexp", regexp: "\\?.*$", value: "" },
  },
};

/** The answer for a name or path the proxy does not serve. */
const NOT_FOUND = {
  handler: "static_response",
  status_code: 404,
  headers: { "Content-Type": ["text/plain; charset=utf-8"] },
  body: "Not found.\n",
};

/** A handler that keeps a request out of the access log (Caddy 2.6: the `skip_log` variable). */
const SKIP_LOG = { handler: "vars", skip_log: true };
/** The server that serves HOST:PORT when there are several web processes. */
const FRONT_SERVER = "tryitnow-web";
/** With TLS, the plain-HTTP server on PROXY_HTTP_PORT. */
const REDIRECT_SERVER = "tryitnow-http";
/** The tag of the product's certificate in Caddy's TLS app; the rest of it names the file's content. */
const CERT_TAG = "tryitnow-cert:";

/**
 * The product's entry in Caddy's `load_files`, tagged with a hash of the certificate file: a renewed
 * file changes the config, and the next prepare() (each reconcile) loads it.
 */
function certificateEntry(tls: { certificate: string; key: string }) {
  let pem: Buffer;
  try {
    pem = readFileSync(tls.certificate);
  } catch (error) {
    throw new Error(`PROXY_TLS_CERT: cannot read ${tls.certificate}: ${(error as Error).message}`);
  }
  const tag = `${CERT_TAG}${createHash("sha256").update(pem).digest("hex").slice(0, 16)}`;
  return { certificate: tls.certificate, key: tls.key, tags: [tag] };
}

/**
 * Connections to the web processes. Every route change is a config reload with transports of its
 * own; a connection busy at the reload (a health check, a stream) goes back to the old transport's
 * pool, which nothing closes but its idle timeout — Caddy's default 2 min, longer than the web's
 * keep-alive (65 s, server.ts). At a reload or more per second that held about 2,000 idle sockets
 * per web process in `npm run soak` (the web's open files; 1,024 is systemd's default soft limit). Idle
 * 10 s: a few hundred at most, and still shorter than the web's keep-alive, so Caddy never sends on
 * a connection the web is closing.
 */
const WEB_TRANSPORT = {
  protocol: "http",
  keep_alive: { enabled: true, probe_interval: "30s", idle_timeout: "10s", max_idle_conns_per_host: 32 },
};

/** The route variable that holds an instance's published port. */
const PORT_VAR = "tin_port";

/**
 * The handler of every instance route, the same in each: it dials the port the route's `vars`
 * handler set. Caddy 2.6.2 keeps a metric series (`caddy_reverse_proxy_upstreams_healthy`) for
 * every upstream address it ever provisioned and never drops one (fixed in Caddy 2.7, #5498): with
 * the port in the dial address, every instance left one behind, and `npm run soak` measured Caddy's
 * live heap rising by about 5 MB an hour. One address template, one series. A dial that fails is
 * tried again for up to 3 s: when the Docker daemon comes back it rewrites its port-forwarding
 * rules, and for a moment a published port refuses (ARCHITECTURE.md, "Restarts").
 */
const INSTANCE_PROXY = {
  handler: "reverse_proxy",
  upstreams: [{ dial: `127.0.0.1:{http.vars.${PORT_VAR}}` }],
  load_balancing: { try_duration: "3s", try_interval: "100ms" },
};

/** Methods a process may be asked again after it took the request and did not answer. */
const REPEATABLE = ["GET", "HEAD", "OPTIONS"];

/** The least time between two route changes of one process (`CaddyRoutes.serialize`). */
const CHANGE_SPACING_MS = 50;

/**
 * The proxy's handler for the web (ARCHITECTURE.md, "Supervision"). One process: a plain dial, as
 * ever. Several: each is health-checked (`/health/live`, answered by server.ts: a stopping process
 * says 503) and a process a request failed on is left alone for 3 s. Two handlers, by method:
 * - `GET`, `HEAD`, `OPTIONS` (no body): a failed dial, or a request the process took and did not
 *   answer, is tried on another process for up to 5 s.
 * - Every other method is never tried twice. A dial that fails would be safe to repeat, but Caddy 2.6
 *   sends the repeat with the body the first attempt closed ("invalid Read on closed Body", Caddy
 *   issue #7546, fixed in 2.11): the repeat fails on the healthy process too, the passive check marks
 *   both down, and every acquire was answered 503 "no upstreams available" for seconds after each
 *   kill (407 of 436 failures in a 5-minute soak). So a dial to a process that just died answers
 *   502 once, and that process is skipped from then on.
 */
function webProxy(upstreams: string[], extra: Record<string, unknown> = {}) {
  const handler: Record<string, unknown> = {
    handler: "reverse_proxy",
    upstreams: upstreams.map((dial) => ({ dial })),
    transport: WEB_TRANSPORT,
    ...extra,
  };
  if (upstreams.length === 1) return handler;
  const balanced = {
    ...handler,
    health_checks: {
      // A live process that is slow to answer for a moment (both cores busy booting its restarted
      // peer) must not be marked down with it: with a 1 s timeout, one CI churn run saw both
      // processes down at once and an acquire answered 503 "no upstreams available". A dead
      // process refuses the dial at once, so the longer timeout does not slow finding it.
      active: { uri: "/health/live", interval: "1s", timeout: "3s" },
      passive: { fail_duration: "3s", max_fails: 1 },
    },
  };
  const least = { selection_policy: { policy: "least_conn" } };
  return {
    handler: "subroute",
    routes: [
      {
        match: [{ method: REPEATABLE }],
        handle: [
          {
            ...balanced,
            load_balancing: { ...least, try_duration: "5s", try_interval: "100ms", retry_match: [{ method: REPEATABLE }] },
          },
        ],
        terminal: true,
      },
      { handle: [{ ...balanced, load_balancing: least }], terminal: true },
    ],
  };
}

/** `POST /api/v1/demo/<instance id>/convert`, the one API call the proxy passes on for any host. */
const CONVERT_PATH = `^/api/v1/demo/${INSTANCE_ID.source.replace(/^\^|\$$/g, "")}/convert$`;

/** JSON with sorted keys: Caddy hands its config back with keys in its own order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonical(item)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The instance group inside a server's routes, or undefined. */
function groupOf(server: { routes?: { handle?: { "@id"?: string; routes?: unknown[] }[] }[] } | undefined) {
  for (const route of server?.routes ?? [])
    for (const handler of route.handle ?? []) if (handler["@id"] === GROUP_ID) return handler;
  return undefined;
}

/**
 * RouteTable on Caddy's admin API (ARCHITECTURE.md, "Routes"). The server serves only what it must:
 * PUBLIC_URL's host goes to the web (when PUBLIC_URL points at the proxy); one route group matches
 * `*.<BASE_DOMAIN>`, with instance routes (`@id tin-<id>`) appended to it and a plain 404 for a host
 * with no instance; on other hosts a conversion call goes to the web (TRYIT_API_URL) and anything
 * else is a plain 404. Only instance hosts are logged.
 */
export class CaddyRoutes implements RouteTable {
  constructor(private readonly options: CaddyOptions) {}

  private async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<unknown> {
    return (await this.exchange(method, path, body, headers)).body;
  }

  /** One admin call; its answer with the config's ETag (Caddy ≥ 2.6 sends one for GETs). */
  private async exchange(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    // Caddy closes admin connections when it reloads its config: a reused keep-alive socket can
    // then fail before the request is read, so such failures are retried on a fresh connection.
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.callOnce(method, path, body, headers);
      } catch (error) {
        if (error instanceof CaddyError || attempt >= 3) throw error;
      }
    }
  }

  /**
   * A GET with the config's ETag, which Caddy sends as an HTTP trailer (after a chunked body):
   * fetch() does not expose trailers, Node's http client does.
   */
  private getWithEtag(path: string): Promise<{ body: unknown; etag: string | null }> {
    return new Promise((resolve, reject) => {
      // A connection of its own: Caddy closes kept-alive admin connections when its config changes.
      const request = http.get(
        `${this.options.adminUrl}${path}`,
        { timeout: this.options.timeoutMs ?? 5000, agent: false },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("error", reject);
          response.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            const status = response.statusCode ?? 0;
            if (status < 200 || status >= 300)
              return reject(new CaddyError(status, `caddy GET ${path}: ${status} ${text.trim()}`));
            const etag = response.headers.etag ?? response.trailers.etag ?? null;
            try {
              resolve({ body: text ? JSON.parse(text) : null, etag: typeof etag === "string" ? etag : null });
            } catch (error) {
              reject(error);
            }
          });
        },
      );
      request.on("timeout", () => request.destroy(new Error("timed out")));
      request.on("error", (error) =>
        reject(new DependencyError("caddy", `caddy GET ${path}: ${error.message}`, { cause: error })),
      );
    });
  }

  private async callOnce(
    method: string,
    path: string,
    body: unknown,
    headers: Record<string, string>,
  ): Promise<{ body: unknown; etag: string | null }> {
    let response: Response;
    try {
      response = await fetch(`${this.options.adminUrl}${path}`, {
        method,
        headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
      });
    } catch (error) {
      throw new DependencyError("caddy", `caddy ${method} ${path}: ${(error as Error).message}`, { cause: error });
    }
    const text = await response.text();
    if (!response.ok) throw new CaddyError(response.status, `caddy ${method} ${path}: ${response.status} ${text.trim()}`);
    return { body: text ? JSON.parse(text) : null, etag: response.headers.get("etag") };
  }

  async ping(): Promise<void> {
    await this.call("GET", "/config/admin");
  }

  async ready(): Promise<boolean> {
    try {
      await this.call("GET", `/id/${GROUP_ID}`);
      return true;
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  }

  /** The conversion call of a container, on any host: to the web, which checks the token. */
  private convertRoute() {
    return {
      match: [{ method: ["POST"], path_regexp: { pattern: CONVERT_PATH } }],
      handle: [SKIP_LOG, webProxy(this.options.webUpstreams)],
      terminal: true,
    };
  }

  private serverConfig(instanceRoutes: unknown[] = [], certificateTag: string | null = null) {
    const { baseDomain, proxyPort, webUpstreams, publicHost } = this.options;
    const web = publicHost
      ? [{ match: [{ host: [publicHost] }], handle: [SKIP_LOG, webProxy(webUpstreams)], terminal: true }]
      : [];
    return {
      listen: [`:${proxyPort}`],
      automatic_https: { disable: true },
      // Every name on this server is answered with the operator's certificate (SNI or none).
      ...(certificateTag ? { tls_connection_policies: [{ certificate_selection: { any_tag: [certificateTag] } }] } : {}),
      logs: { default_logger_name: ACCESS_LOGGER },
      routes: [
        ...web,
        {
          match: [{ host: [`*.${baseDomain}`] }],
          handle: [
            { "@id": GROUP_ID, handler: "subroute", routes: instanceRoutes },
            {
              handler: "static_response",
              status_code: 404,
              headers: { "Content-Type": ["text/plain; charset=utf-8"] },
              body: "This demo does not exist or has ended.\n",
            },
          ],
          terminal: true,
        },
        // A container reports its conversions to the proxy on the host (TRYIT_API_URL): that one
        // call, on any other host, goes to the web; the web checks the token.
        this.convertRoute(),
        { handle: [SKIP_LOG, NOT_FOUND] },
      ],
    };
  }

  /**
   * HOST:PORT for several web processes: every request to the web processes' sockets for it, with
   * the client's address and X-Forwarded-For in headers of the product's own (set, so a client's
   * are overwritten); never logged (its requests carry keys).
   */
  private frontConfig() {
    const front = this.options.front;
    if (!front) return null;
    const handoff = {
      request: {
        set: {
          [FRONT_PEER_HEADER]: ["{http.request.remote.host}"],
          [FRONT_FORWARDED_HEADER]: ["{http.request.header.X-Forwarded-For}"],
        },
      },
    };
    return {
      listen: [front.listen],
      automatic_https: { disable: true },
      routes: [{ handle: [SKIP_LOG, webProxy(front.upstreams, { headers: handoff })], terminal: true }],
    };
  }

  /**
   * With TLS, PROXY_HTTP_PORT: a container's conversion call to the web (TRYIT_API_URL); a request
   * for a name the proxy serves (the web's, an instance's) redirected (308) to the same URL on
   * https; any other name 404, as on the TLS port (no redirect to a host a client made up).
   */
  private redirectConfig() {
    const tls = this.options.tls;
    if (!tls?.httpPort) return null;
    const { proxyPort, publicHost, baseDomain } = this.options;
    const port = proxyPort === 443 ? "" : `:${proxyPort}`;
    const served = [...(publicHost ? [publicHost] : []), `*.${baseDomain}`];
    return {
      listen: [`:${tls.httpPort}`],
      automatic_https: { disable: true },
      routes: [
        this.convertRoute(),
        {
          match: [{ host: served }],
          handle: [
            SKIP_LOG,
            {
              handler: "static_response",
              status_code: 308,
              headers: { Location: [`https://{http.request.host}${port}{http.request.uri}`] },
            },
          ],
          terminal: true,
        },
        { handle: [SKIP_LOG, NOT_FOUND] },
      ],
    };
  }

  /**
   * Loads the server and its access logger when either is missing or differs from what this
   * version wants (a fresh Caddy, an older layout, another PUBLIC_URL); the instance routes a
   * running Caddy holds are kept. Caddy 2.6 opens a `file` writer at load, so the log needs no peer
   * running.
   */
  async prepare(): Promise<void> {
    const config = ((await this.call("GET", "/config/")) ?? {}) as Record<string, any>;
    config.logging ??= {};
    config.logging.logs ??= {};
    const logs = config.logging.logs;
    const logger = {
      writer: {
        output: "file",
        filename: this.options.accessLog,
        roll_size_mb: ACCESS_LOG_ROLL_MB,
        roll_keep: 5,
        roll_gzip: false,
      },
      encoder: LOG_ENCODER,
      include: [`http.log.access.${ACCESS_LOGGER}`],
    };
    // Access lines go to their file only, not also to Caddy's default log; that log is filtered too.
    const defaultLog = {
      ...logs.default,
      encoder: LOG_ENCODER,
      exclude: [...new Set([...(logs.default?.exclude ?? []), `http.log.access.${ACCESS_LOGGER}`])],
    };
    const server = config.apps?.http?.servers?.[SERVER];
    const certificate = this.options.tls ? certificateEntry(this.options.tls) : null;
    const wanted = this.serverConfig(groupOf(server)?.routes ?? [], certificate?.tags[0] ?? null);
    const extra = { [FRONT_SERVER]: this.frontConfig(), [REDIRECT_SERVER]: this.redirectConfig() };
    // The operator's other certificates (if any) stay; the product's is the one tagged CERT_TAG.
    const loaded: { tags?: string[] }[] = config.apps?.tls?.certificates?.load_files ?? [];
    const others = loaded.filter((entry) => !entry.tags?.some((tag) => tag.startsWith(CERT_TAG)));
    const files = certificate ? [...others, certificate] : others;
    if (
      server &&
      canonical(server) === canonical(wanted) &&
      canonical(logs[ACCESS_LOGGER]) === canonical(logger) &&
      canonical(logs.default) === canonical(defaultLog) &&
      Object.entries(extra).every(
        ([name, wantedServer]) => canonical(config.apps?.http?.servers?.[name] ?? null) === canonical(wantedServer),
      ) &&
      canonical(loaded) === canonical(files)
    )
      return;
    logs[ACCESS_LOGGER] = logger;
    logs.default = defaultLog;
    config.apps ??= {};
    config.apps.http ??= {};
    config.apps.http.servers ??= {};
    config.apps.http.servers[SERVER] = wanted;
    for (const [name, wantedServer] of Object.entries(extra)) {
      if (wantedServer) config.apps.http.servers[name] = wantedServer;
      else delete config.apps.http.servers[name];
    }
    if (files.length) {
      config.apps.tls ??= {};
      config.apps.tls.certificates = { ...config.apps.tls.certificates, load_files: files };
    } else if (config.apps.tls?.certificates) delete config.apps.tls.certificates.load_files;
    await this.call("POST", "/load", config);
  }

  /** This process's route changes, one at a time (see `serialize`). */
  private changes: Promise<unknown> = Promise.resolve();
  private lastChangeAtMs = Number.NEGATIVE_INFINITY;

  /**
   * Runs this process's route changes one after another, at least CHANGE_SPACING_MS apart. Every
   * change reloads Caddy 2.6's whole config, and each reload starts the web upstreams' active health
   * checks afresh; a reload that comes while those checks are in flight cancels them, and Caddy 2.6
   * counts a cancelled check as a failed one. A burst of changes (concurrent cleanups racing on the
   * routes' ETag) marked the live web process down with a dead one, and an acquire was answered 503
   * "no upstreams available" (a CI churn run). Spaced out, each reload's checks end before the next.
   * Issue 24's routes without reloads remove the cause.
   */
  private serialize<T>(task: () => Promise<T>): Promise<T> {
    const run = this.changes.then(async () => {
      const waitMs = this.lastChangeAtMs + CHANGE_SPACING_MS - performance.now();
      if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
      try {
        return await task();
      } finally {
        this.lastChangeAtMs = performance.now();
      }
    });
    this.changes = run.catch(() => undefined);
    return run;
  }

  add(id: string, hostPort: number): Promise<void> {
    return this.serialize(() => this.addNow(id, hostPort));
  }

  private async addNow(id: string, hostPort: number): Promise<void> {
    const route = {
      "@id": routeId(id),
      match: [{ host: [`${id}.${this.options.baseDomain}`] }],
      handle: [{ handler: "vars", [PORT_VAR]: String(hostPort) }, INSTANCE_PROXY],
      terminal: true,
    };
    try {
      await this.call("POST", `/id/${GROUP_ID}/routes`, route);
    } catch (error) {
      // A retried provision may find its route already there: replace it (removed safely, see remove).
      if (!(error instanceof CaddyError) || !/duplicate/i.test(error.message)) throw error;
      await this.removeNow(id);
      await this.call("POST", `/id/${GROUP_ID}/routes`, route);
    }
  }

  /**
   * Removes a route by its position, checked against the config's ETag. Deleting by @id is not
   * safe with several workers: Caddy resolves the id to an array index before it takes its config
   * lock, so two concurrent deletes can hit a shifted index (a 500, or another visitor's route).
   * Here a change in between makes Caddy answer 412, and the removal starts over.
   */
  remove(id: string): Promise<void> {
    return this.serialize(() => this.removeNow(id));
  }

  private async removeNow(id: string): Promise<void> {
    for (let attempt = 1; attempt <= 20; attempt += 1) {
      let listing: { body: unknown; etag: string | null };
      try {
        listing = await this.getWithEtag(`/id/${GROUP_ID}/routes`);
      } catch (error) {
        if (isMissing(error)) return; // no group: a fresh Caddy has no routes at all
        throw error;
      }
      const index = ((listing.body ?? []) as { "@id"?: string }[]).findIndex((route) => route["@id"] === routeId(id));
      if (index < 0) return;
      try {
        // The ETag names the expanded path (`"/config/… <hash>"`): delete there, not through the id.
        const path = listing.etag?.match(/^"(\/config\/\S+) [0-9a-f]+"$/)?.[1];
        if (!path) throw new Error("caddy sent no usable ETag (Caddy 2.6 or later is needed)");
        await this.call("DELETE", `${path}/${index}`, undefined, { "If-Match": listing.etag! });
        return;
      } catch (error) {
        // 412: the routes changed since the listing; an index past the end is the same news.
        const changed = error instanceof CaddyError && (error.status === 412 || /index out of bounds/i.test(error.message));
        if (!changed) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
      }
    }
    throw new Error(`caddy: the routes kept changing; route ${routeId(id)} not removed (the reconciler will)`);
  }

  async list(): Promise<Route[]> {
    const routes = ((await this.call("GET", `/id/${GROUP_ID}/routes`)) ?? []) as {
      "@id"?: string;
      handle?: ({ upstreams?: { dial?: string }[] } & Record<string, unknown>)[];
    }[];
    return routes
      .filter((route) => route["@id"]?.startsWith("tin-"))
      .map((route) => {
        // The port in the route's variable; a route an earlier version added names it in its dial.
        const first = route.handle?.[0];
        const port = Number(first?.[PORT_VAR] ?? first?.upstreams?.[0]?.dial?.split(":").pop() ?? "");
        return { id: route["@id"]!.slice(4), hostPort: Number.isInteger(port) && port > 0 ? port : null };
      });
  }
}
