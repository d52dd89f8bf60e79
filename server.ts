import { createServer } from "node:http";
import next from "next";
import { POST as acquireRoute } from "./app/api/v1/demo/acquire/route";
import { loadConfig } from "./lib/config";
import { serveFetchHandler } from "./lib/http/node-adapter";

/**
 * The web process: Next.js behind a plain Node server, because route handlers cannot see the
 * socket's address. The server writes it into a header of its own, overwriting whatever a client
 * sent, so the client-IP rule (DESIGN §10) starts from a fact, not from a claim.
 */
const PEER_HEADER = "x-tin-peer-ip";
const config = loadConfig();
const { PORT: port, HOST: host } = config;
const dev = process.env.NODE_ENV === "development";

const app = next({ dev, hostname: host, port });
const handle = app.getRequestHandler();

await app.prepare();
/**
 * The acquire hot path skips Next.js's router: the same route handler, served directly. Every other
 * request (and this one too, when reached through Next.js) behaves the same.
 */
const FAST_ROUTES = new Map([["POST /api/v1/demo/acquire", acquireRoute]]);

const server = createServer((req, res) => {
  req.headers[PEER_HEADER] = req.socket.remoteAddress ?? "0.0.0.0";
  const fast = FAST_ROUTES.get(`${req.method} ${req.url?.split("?")[0]}`);
  const served = fast ? serveFetchHandler(fast, req, res, config.MAX_BODY_BYTES) : handle(req, res);
  served.catch((error: unknown) => {
    console.error(error);
    if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: "internal error", code: "INTERNAL_ERROR" }));
  });
});
server.keepAliveTimeout = 65_000;
server.listen(port, host, () => {
  console.log(JSON.stringify({ level: 30, service: "web", msg: `web listening on http://${host}:${port}` }));
});

let stopping = false;
const shutdown = (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(JSON.stringify({ level: 30, service: "web", msg: `stopping (${signal})` }));
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 8000).unref();
};
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
