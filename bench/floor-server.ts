/**
 * The floor for the acquire benchmark: a bare Node HTTP server running the same acquire script on
 * the same Redis, with no framework, no auth, no validation. What Next.js adds is measured against it.
 */
import { createServer } from "node:http";
import { appKeys } from "../lib/store/keys";
import { createRedis, runScript } from "../lib/store/redis";
import { benchConfig } from "./common";

const config = benchConfig();
const redis = createRedis(config);
const port = Number(process.env.FLOOR_PORT ?? 18092);
const app = process.env.BENCH_APP ?? "bench";
const keys = appKeys(config.VALKEY_PREFIX, app);

createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", async () => {
    const now = Date.now();
    const hour = Math.floor(now / 3_600_000);
    const day = Math.floor(now / 86_400_000);
    const ip = req.socket.remoteAddress ?? "";
    const reply = await runScript<(string | number)[]>(
      redis,
      "tinAcquire",
      [keys.ready, keys.expiry, keys.cfg, keys.rateLimit(ip, `h${hour}`), keys.rateLimit(ip, `d${day}`)],
      [now, ip, 0, 0, (hour + 1) * 3_600_000 - now, (day + 1) * 86_400_000 - now, keys.instPrefix],
    );
    const ok = reply[0] === "OK";
    res.writeHead(ok ? 200 : 503, { "content-type": "application/json" });
    res.end(JSON.stringify(ok ? { id: reply[1], expires_at: Number(reply[9]) } : { code: "POOL_EXHAUSTED" }));
  });
}).listen(port, "127.0.0.1", () => console.log(`floor listening on ${port}`));
