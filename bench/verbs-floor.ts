/**
 * The floor of the verbs benchmark (bench/verbs.ts): a bare Node HTTP server doing each verb's
 * Redis (and, for release, NATS) work through the same lib functions the route handlers call —
 * no router, no key check, no request id, no log line, no metrics. What the web adds is measured
 * against it.
 */
import { createServer, type ServerResponse } from "node:http";
import { createContext } from "../lib/context";
import { AppError } from "../lib/errors";
import { OPEN_ACTOR } from "../lib/keys/authenticate";
import { extend } from "../lib/pool/extend";
import { getInstance } from "../lib/pool/get";
import { release } from "../lib/pool/release";
import { poolStats } from "../lib/pool/stats";
import { benchConfig } from "./common";

const ctx = createContext(benchConfig(), "bench-floor");
const port = Number(process.env.FLOOR_PORT ?? 18095);
const DEMO = /^\/api\/v1\/demo\/([^/]+)(\/extend)?$/;

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

async function verb(method: string, path: string): Promise<unknown> {
  if (method === "GET" && path === "/api/v1/pool/stats") return poolStats(ctx, { apps: null });
  const demo = DEMO.exec(path);
  if (demo && method === "GET" && !demo[2]) return getInstance(ctx, demo[1], OPEN_ACTOR);
  if (demo && method === "POST" && demo[2]) return extend(ctx, demo[1], { minutes: 1 }, OPEN_ACTOR, "floor");
  if (demo && method === "DELETE" && !demo[2]) return release(ctx, demo[1], OPEN_ACTOR, "floor");
  throw new AppError("NOT_FOUND", "no such verb");
}

createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    verb(req.method ?? "GET", (req.url ?? "/").split("?")[0]).then(
      (body) => send(res, 200, body),
      (error: unknown) =>
        error instanceof AppError
          ? send(res, error.status, { error: error.message, code: error.code })
          : send(res, 500, { error: String(error) }),
    );
  });
}).listen(port, "127.0.0.1", () => console.log(`verbs floor listening on ${port}`));
