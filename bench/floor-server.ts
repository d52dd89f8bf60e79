/**
 * The floor for the acquire benchmark: a bare Node HTTP server running the same acquire script on
 * the same Redis, with no framework, no auth, no validation. What Next.js adds is measured against it.
 */
import { createServer } from "node:http";
import { redisKeys } from "../lib/store/keys";
import { createRedis } from "../lib/store/redis";
import { acquireScript } from "../lib/store/scripts";
import { benchConfig } from "./common";

const config = benchConfig();
const redis = createRedis(config);
const port = Number(process.env.FLOOR_PORT ?? 18092);
const app = process.env.BENCH_APP ?? "bench";
const keys = redisKeys(config.VALKEY_PREFIX).app(app);

createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", async () => {
    const now = Date.now();
    const hour = Math.floor(now / 3_600_000);
    const day = Math.floor(now / 86_400_000);
    const ip = req.socket.remoteAddress ?? "";
    const reply = await acquireScript.run(
      redis,
      {
        ready: keys.ready,
        expiry: keys.expiry,
        cfg: keys.cfg,
        hourCounter: keys.rateLimit(ip, `h${hour}`),
        dayCounter: keys.rateLimit(ip, `d${day}`),
        bucket: keys.bucket,
        keyBucket: keys.keyBucket("none"),
        spent: keys.answer("none"),
        blocks: keys.blocks,
      },
      {
        nowMs: now,
        clientIp: ip,
        defaultHourly: 0,
        defaultDaily: 0,
        hourResetMs: (hour + 1) * 3_600_000 - now,
        dayResetMs: (day + 1) * 86_400_000 - now,
        instPrefix: keys.instPrefix,
        launchOnly: 0,
        defaultLifetimeMs: 14_400_000,
        defaultMaxExtensions: 6,
        caller: "server",
        answer: "",
        keyRate: 0,
        blockCandidates: "",
      },
    );
    res.writeHead(reply.status === "OK" ? 200 : 503, { "content-type": "application/json" });
    res.end(JSON.stringify(reply.status === "OK" ? { id: reply.id, expires_at: reply.expiresAtMs } : { code: "POOL_EXHAUSTED" }));
  });
}).listen(port, "127.0.0.1", () => console.log(`floor listening on ${port}`));
