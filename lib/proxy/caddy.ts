import { DependencyError } from "../dependency";
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
  /** Where the proxy sends requests that are not for an instance: the web process. */
  webUpstream: string;
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

/**
 * RouteTable on Caddy's admin API (ARCHITECTURE.md, "Routes"). The server holds one route group matching
 * `*.<BASE_DOMAIN>`: instance routes (`@id tin-<id>`) are appended to it; a host with no instance
 * gets a plain 404; everything else goes to the web process.
 */
export class CaddyRoutes implements RouteTable {
  constructor(private readonly options: CaddyOptions) {}

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    // Caddy closes admin connections when it reloads its config: a reused keep-alive socket can
    // then fail before the request is read, so such failures are retried on a fresh connection.
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.callOnce(method, path, body);
      } catch (error) {
        if (error instanceof CaddyError || attempt >= 3) throw error;
      }
    }
  }

  private async callOnce(method: string, path: string, body?: unknown): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(`${this.options.adminUrl}${path}`, {
        method,
        headers: body === undefined ? undefined : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
      });
    } catch (error) {
      throw new DependencyError("caddy", `caddy ${method} ${path}: ${(error as Error).message}`, { cause: error });
    }
    const text = await response.text();
    if (!response.ok) throw new CaddyError(response.status, `caddy ${method} ${path}: ${response.status} ${text.trim()}`);
    return text ? JSON.parse(text) : null;
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

  private serverConfig() {
    const { baseDomain, proxyPort, webUpstream } = this.options;
    return {
      listen: [`:${proxyPort}`],
      automatic_https: { disable: true },
      logs: { default_logger_name: ACCESS_LOGGER },
      routes: [
        {
          match: [{ host: [`*.${baseDomain}`] }],
          handle: [
            { "@id": GROUP_ID, handler: "subroute", routes: [] },
            {
              handler: "static_response",
              status_code: 404,
              headers: { "Content-Type": ["text/plain; charset=utf-8"] },
              body: "This demo does not exist or has ended.\n",
            },
          ],
          terminal: true,
        },
        { handle: [{ handler: "reverse_proxy", upstreams: [{ dial: webUpstream }] }] },
      ],
    };
  }

  /**
   * Loads the server and its access logger when either is missing (a fresh Caddy); a Caddy that has
   * both keeps its routes. Caddy 2.6 opens a `file` writer at load, so the log needs no peer running.
   */
  async prepare(): Promise<void> {
    const config = ((await this.call("GET", "/config/")) ?? {}) as Record<string, any>;
    config.logging ??= {};
    config.logging.logs ??= {};
    const logs = config.logging.logs;
    const logger = {
      writer: { output: "file", filename: this.options.accessLog, roll_size_mb: ACCESS_LOG_ROLL_MB, roll_keep: 5, roll_gzip: false },
      encoder: { format: "json" },
      include: [`http.log.access.${ACCESS_LOGGER}`],
    };
    const server = config.apps?.http?.servers?.[SERVER];
    const hasGroup = JSON.stringify(server?.routes ?? []).includes(`"@id":"${GROUP_ID}"`);
    if (hasGroup && server?.logs?.default_logger_name === ACCESS_LOGGER && logs[ACCESS_LOGGER]?.writer?.filename === logger.writer.filename) return;
    logs[ACCESS_LOGGER] = logger;
    // Access lines go to their file only, not also to Caddy's default log.
    logs.default = { ...logs.default, exclude: [...new Set([...(logs.default?.exclude ?? []), `http.log.access.${ACCESS_LOGGER}`])] };
    config.apps ??= {};
    config.apps.http ??= {};
    config.apps.http.servers ??= {};
    config.apps.http.servers[SERVER] = hasGroup ? { ...server, logs: { default_logger_name: ACCESS_LOGGER } } : this.serverConfig();
    await this.call("POST", "/load", config);
  }

  async add(id: string, hostPort: number): Promise<void> {
    const route = {
      "@id": routeId(id),
      match: [{ host: [`${id}.${this.options.baseDomain}`] }],
      // A dial that fails is tried again for up to 3 s: when the Docker daemon comes back it rewrites
      // its port-forwarding rules, and for a moment a published port refuses (ARCHITECTURE.md, "Restarts").
      handle: [{ handler: "reverse_proxy", upstreams: [{ dial: `127.0.0.1:${hostPort}` }], load_balancing: { try_duration: "3s", try_interval: "100ms" } }],
      terminal: true,
    };
    try {
      await this.call("POST", `/id/${GROUP_ID}/routes`, route);
    } catch (error) {
      // A retried provision may find its route already there: replace it.
      if (!(error instanceof CaddyError) || !/duplicate/i.test(error.message)) throw error;
      await this.call("PATCH", `/id/${routeId(id)}`, route);
    }
  }

  async remove(id: string): Promise<void> {
    try {
      await this.call("DELETE", `/id/${routeId(id)}`);
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
  }

  async list(): Promise<Route[]> {
    const routes = ((await this.call("GET", `/id/${GROUP_ID}/routes`)) ?? []) as {
      "@id"?: string;
      handle?: { upstreams?: { dial?: string }[] }[];
    }[];
    return routes
      .filter((route) => route["@id"]?.startsWith("tin-"))
      .map((route) => {
        const dial = route.handle?.[0]?.upstreams?.[0]?.dial ?? "";
        const port = Number(dial.split(":").pop());
        return { id: route["@id"]!.slice(4), hostPort: Number.isFinite(port) ? port : null };
      });
  }
}
