import { chmodSync, mkdirSync, rmSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { dirname } from "node:path";
import next from "next";
import { ROUTE_FILES, UNKNOWN_API } from "./app/route-files";
import { loadConfig } from "./lib/config";
import { flushEvents } from "./lib/events/publish";
import { EDGE_HEADER, PEER_HEADER } from "./lib/http/client-ip";
import { Dispatcher } from "./lib/http/dispatch";
import { errorReply } from "./lib/http/envelope";
import { serveRouteHandler } from "./lib/http/node-adapter";
import { requestIdOf } from "./lib/http/request";
import { baseSecurityHeaders, newNonce, pageContentSecurityPolicy } from "./lib/http/security-headers";
import { webContext } from "./lib/http/web-context";
import { FRONT_FORWARDED_HEADER, FRONT_PEER_HEADER, webListeners } from "./lib/http/web-listeners";
import { openApiPossible } from "./lib/keys/authenticate";
import { flushKeyUse } from "./lib/keys/usage";
import { createLogger } from "./lib/log";
import { shutdownWatchers } from "./lib/pool/watch";
import { derivedKey } from "./lib/secrets";
import { AcquisitionHistory } from "./lib/store/history";
import { announceWebProcess, WEB_PROCESS_ID } from "./lib/web-process";

/**
 * The web process: Next.js behind a plain Node server, because route handlers cannot see the
 * socket's address. The server writes it, and which listener the request came in on, into headers
 * of its own, overwriting whatever a client sent, so the client-address rule (ARCHITECTURE.md,
 * "HTTP API") starts from facts, not from claims. Two listeners: the TCP port (HOST:PORT) for
 * clients that talk to the web directly, and a Unix socket (WEB_PROXY_SOCKET, mode 0600) that
 * only the bundled proxy dials: only there is X-Forwarded-For believed without TRUSTED_PROXIES,
 * and nothing that arrives there is ever a local client. One of several web processes
 * (WEB_INDEX > 0, lib/http/web-listeners.ts) has a socket of its own instead of the TCP port, on
 * which the proxy hands over HOST:PORT's requests with the client's address.
 */
const SHUTDOWN_DEADLINE_MS = 7000; // plus up to 2 s for handlers to settle: out within 10 s
/** The proxy's health check of a web process (lib/proxy/caddy.ts). */
const LIVE_PATH = "/health/live";
const config = loadConfig();
const log = createLogger(config.LOG_LEVEL, "web");
const { PORT: port, HOST: host } = config;
const dev = config.NODE_ENV === "development";

const app = next({ dev, hostname: host, port });
const handle = app.getRequestHandler();

/**
 * The fast path (ARCHITECTURE.md, "HTTP API"): the public API, /health, /metrics and the widget's
 * scripts skip Next.js's router — the same route handlers, found from their files' paths and served
 * directly. Pages, the dashboard and its API, next-auth, HEAD and odd paths go to Next.js.
 * API_DISPATCH=next sends everything through Next.js (what the bench compares against).
 */
const dispatcher = config.API_DISPATCH === "fast" ? new Dispatcher(ROUTE_FILES, UNKNOWN_API) : new Dispatcher([], null);

/**
 * Paths whose route handlers write their own request log line (withRoute); the rest — pages, static
 * files, next-auth's /api/auth — are logged here.
 */
const HANDLER_PATHS = /^\/(api\/(?!auth\/)|admin\/api\/|health$|metrics$)/;

/** Route handlers, Next.js's own files and the widget's script: everything else is a page, with its CSP. */
const NOT_A_PAGE = /^\/(api\/|admin\/api\/|_next\/|embed(\.js$|\/)|health$|metrics$)/;
/** In lower case, as a Reply's headers are (lib/http/reply.ts): merged with them, a name is sent once. */
const securityHeaders = Object.fromEntries(
  Object.entries(baseSecurityHeaders(config)).map(([name, value]) => [name.toLowerCase(), value]),
);

/** Next.js would fail on malformed percent-encoding: such URLs get a 400 here. */
function wellFormed(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

let stopping = false;
/** Handlers still running, also for clients that went away: the context stays open until they end. */
let inFlight = 0;
await app.prepare();
// The keys acquire signs with come from the deployment's secret (MariaDB when AUTH_SECRET is unset):
// loaded now, so a later MariaDB outage does not reach the acquire path (ARCHITECTURE.md, "Restarts").
derivedKey(webContext(), "instance-token").catch((error: Error) =>
  log.warn({ err: error.message }, "secret not loaded yet; the first acquire loads it"),
);
const serve = (edge: "direct" | "proxy" | "front") => (req: IncomingMessage, res: ServerResponse) => {
  const started = performance.now();
  if (edge === "front") {
    // HOST:PORT through the proxy: the client's address and X-Forwarded-For as the proxy set them
    // (overwriting a client's); from here on, the same rule as a direct client.
    const peer = req.headers[FRONT_PEER_HEADER];
    const forwarded = req.headers[FRONT_FORWARDED_HEADER];
    req.headers[PEER_HEADER] = typeof peer === "string" && peer ? peer : "0.0.0.0";
    if (typeof forwarded === "string" && forwarded) req.headers["x-forwarded-for"] = forwarded;
    else delete req.headers["x-forwarded-for"];
  } else req.headers[PEER_HEADER] = edge === "proxy" ? "proxy" : (req.socket.remoteAddress ?? "0.0.0.0");
  delete req.headers[FRONT_PEER_HEADER];
  delete req.headers[FRONT_FORWARDED_HEADER];
  req.headers[EDGE_HEADER] = edge === "proxy" ? "proxy" : "direct";
  const path = req.url?.split("?")[0] ?? "/";
  // The proxy's health check of this process (several web processes): alive and not stopping. Not logged.
  if (path === LIVE_PATH) {
    res
      .writeHead(stopping ? 503 : 200, { "content-type": "text/plain", "cache-control": "no-store" })
      .end(stopping ? "stopping\n" : "ok\n");
    return;
  }
  // One request id for the whole request: route handlers read this header, every response echoes it.
  const header = req.headers["x-request-id"];
  const requestId = requestIdOf(Array.isArray(header) ? header[0] : header);
  req.headers["x-request-id"] = requestId;
  inFlight += 1;
  let counted = true;
  const done = () => {
    if (counted) inFlight -= 1;
    counted = false;
  };
  const valid = wellFormed(path);
  const fast = valid ? dispatcher.match(req.method ?? "GET", path) : null;
  // Every response's own headers: handed to the fast path, which writes them with the reply's in
  // one writeHead (a setHeader each cost more than the Redis call in a profile); set on the
  // response for Next.js and the answers below.
  const base: Record<string, string> = { ...securityHeaders, "x-request-id": requestId };
  if (stopping) base.connection = "close";
  if (!fast) for (const name in base) res.setHeader(name, base[name]);
  if (!NOT_A_PAGE.test(path)) {
    // Next.js reads the nonce from the request's policy and puts it on the page's inline scripts;
    // a policy a client sent is replaced, never used.
    const policy = pageContentSecurityPolicy(config, newNonce());
    req.headers["content-security-policy"] = policy;
    delete req.headers["content-security-policy-report-only"];
    res.setHeader("Content-Security-Policy", policy);
  }
  // A malformed URL never reaches a route handler, so it is logged here too.
  if (!HANDLER_PATHS.test(path) || !valid) {
    res.once("finish", () => {
      const durationMs = Math.round((performance.now() - started) * 100) / 100;
      const outcome = res.statusCode < 400 ? "ok" : res.statusCode === 404 ? "NOT_FOUND" : "error";
      log.info(
        { requestId, method: req.method, route: "page", path: path.slice(0, 200), status: res.statusCode, durationMs, outcome },
        "request",
      );
    });
  }
  if (!valid) {
    const body = { error: "malformed URL", code: "INVALID_REQUEST", request_id: requestId };
    res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify(body));
    done();
    return;
  }
  const served: Promise<unknown> = fast
    ? serveRouteHandler(fast.handler, req, res, { maxBytes: config.MAX_BODY_BYTES, params: fast.params, headers: base })
    : handle(req, res);
  served
    .catch(async (error: unknown) => {
      // The path only: a query may hold a publishable key or an instance token.
      log.error({ err: error instanceof Error ? error.stack : error, path: path.slice(0, 200) }, "unhandled request failure");
      if (res.headersSent) return res.end();
      const reply = errorReply(error, requestId);
      res.writeHead(reply.status, { ...(fast ? base : {}), "content-type": "application/json" }).end(reply.body as string);
    })
    .finally(done);
};
const listeners = webListeners(config);
const proxyServer = createServer(serve("proxy"));
// The TCP port, or (one of several processes) the socket for HOST:PORT's requests through the proxy.
const server = createServer(serve(listeners.tcp ? "direct" : "front"));
for (const listener of [server, proxyServer]) listener.keepAliveTimeout = 65_000;
if (listeners.tcp && config.WEB_PROCESSES > 1) {
  log.warn(
    { WEB_PROCESSES: config.WEB_PROCESSES },
    "this web was started on its own (no WEB_INDEX) while WEB_PROCESSES > 1 tells the workers to put the proxy on HOST:PORT: run it through the supervisor (npm start), or set WEB_PROCESSES=1",
  );
}
const leaveDeployment = announceWebProcess(webContext());

// The dashboard's acquisitions per minute: this process's counter gains, flushed off the request path.
const history = new AcquisitionHistory();
const flushHistory = () =>
  history.flush(webContext()).catch((error: Error) => log.warn({ err: error.message }, "history flush failed"));
setInterval(flushHistory, 5000).unref();
if (listeners.tcp) {
  server.listen(port, host, () => {
    log.info({ process: WEB_PROCESS_ID }, `web listening on http://${host}:${port}`);
    listenOnSocket(proxyServer, listeners.proxy, "web listening for the proxy");
  });
} else {
  listenOnSocket(
    server,
    listeners.front,
    `web ${config.WEB_INDEX} of ${config.WEB_PROCESSES} listening for HOST:PORT through the proxy`,
  );
  listenOnSocket(proxyServer, listeners.proxy, `web ${config.WEB_INDEX} of ${config.WEB_PROCESSES} listening for the proxy`);
}

/**
 * A socket listener (mode 0600 in a 0700 folder), opened once the TCP port is ours when there is
 * one (so a second web process on the same port fails there, before it could take this one's
 * socket over): a socket file left by a process that died is replaced.
 */
function listenOnSocket(listener: typeof server, path: string, message: string) {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (statSync(path, { throwIfNoEntry: false })?.isSocket()) rmSync(path);
  listener.listen(path, () => {
    chmodSync(path, 0o600);
    log.info({ socket: path, process: WEB_PROCESS_ID }, message);
  });
}

// Says once, loudly, when a client on this machine could use the API without a key.
setTimeout(() => {
  openApiPossible(webContext())
    .then((open) => {
      if (!config.API_KEY) {
        log.warn(
          { openNow: open },
          "API_KEY is unset: while no API key exists, clients on this machine (loopback, not through the proxy) may call every API route without a key; set API_KEY or create a key to close it",
        );
      }
    })
    .catch(() => undefined);
}, 1000).unref();

/**
 * SIGTERM: stop accepting, let in-flight requests finish, end SSE streams with `event: shutdown`,
 * then exit — within 10 s however long clients linger.
 */
const shutdown = (signal: string) => {
  if (stopping) return;
  stopping = true;
  const streams = shutdownWatchers(webContext());
  log.info({ signal, sseStreams: streams }, "stopping: no new connections, finishing in-flight requests");
  let finishing = false;
  const finish = async (code: number) => {
    if (finishing) return;
    finishing = true;
    const settleBy = Date.now() + 2000;
    while (inFlight > 0 && Date.now() < settleBy) await new Promise((resolve) => setTimeout(resolve, 20));
    const ctx = webContext();
    await leaveDeployment();
    await flushKeyUse(ctx).catch(() => undefined);
    await flushHistory();
    await flushEvents(ctx).catch(() => undefined);
    await ctx.close().catch(() => undefined);
    log.info("web stopped");
    log.flush();
    setTimeout(() => process.exit(code), 50);
  };
  let open = 2;
  for (const listener of [server, proxyServer]) {
    listener.close(() => {
      open -= 1;
      if (open === 0) void finish(0);
    });
  }
  // Keep-alive sockets with no request in flight would hold the server open: close them as they go idle.
  const closeIdle = () => {
    server.closeIdleConnections();
    proxyServer.closeIdleConnections();
  };
  const idle = setInterval(closeIdle, 100);
  idle.unref();
  closeIdle();
  setTimeout(() => {
    log.warn("in-flight requests still open at the deadline; closing them");
    server.closeAllConnections();
    proxyServer.closeAllConnections();
    void finish(0);
  }, SHUTDOWN_DEADLINE_MS).unref();
};
// A rejection nobody awaited is logged; it never ends the process (ARCHITECTURE.md, "Restarts").
process.on("unhandledRejection", (reason) =>
  log.error({ err: reason instanceof Error ? reason.message : String(reason) }, "unhandled rejection"),
);
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
