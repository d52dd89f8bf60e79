import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../lib/config";
import { createContext } from "../lib/context";
import { admitStream } from "../lib/pool/watch";
import { streamReleaseScript } from "../lib/store/scripts";
import { acquire, api, createApp, removeApps, waitFor, waitReady } from "./helpers";
import { type Proc, startWeb, startWorker, TEST_API_KEY, TEST_ENV, webAnswers } from "./setup/stack";

let worker: Proc;
const apps: string[] = [];
beforeAll(() => {
  worker = startWorker("worker-edge");
});
afterAll(() => removeApps(apps, [worker]));

describe("request bodies", () => {
  it("answers 413 for a body over MAX_BODY_BYTES", async () => {
    const big = JSON.stringify({ app: "x", pad: "a".repeat(70 * 1024) });
    for (const path of ["/api/v1/demo/acquire", "/api/v1/apps"]) {
      const response = await api(path, { method: "POST", body: big, headers: { "content-type": "application/json" } });
      expect(response.status, path).toBe(413);
      expect(response.json.code).toBe("PAYLOAD_TOO_LARGE");
    }
  });

  it("answers methods a route does not serve with 405 in the envelope", async () => {
    for (const [method, path] of [
      ["PUT", "/api/v1/demo/acquire"],
      ["GET", "/api/v1/demo/acquire"],
      ["POST", "/api/v1/pool/stats"],
      ["PATCH", "/api/v1/demo/aaaaaaaaaaaaaaaaaaaa"],
    ]) {
      const response = await api(path, { method });
      expect(response.status, `${method} ${path}`).toBe(405);
      expect(response.json).toMatchObject({ code: "METHOD_NOT_ALLOWED" });
    }
  });
});

describe("SSE streams per client", () => {
  it("caps concurrent status streams per IP (SSE_MAX_PER_IP=4) across web processes, with 429 and Retry-After", async () => {
    const slug = await createApp("sse", { pool_target: 1 });
    apps.push(slug);
    await waitReady(slug, 1);
    const { json: instance } = await acquire(slug);
    const second = startWeb({ PORT: "18083" }, "web-sse");
    try {
      await waitFor("second web", () => webAnswers(18083), 60_000, 250);
      const open = async (port: number) =>
        fetch(`http://127.0.0.1:${port}/api/v1/demo/${instance.id}/status`, { headers: { "X-API-Key": TEST_API_KEY } });
      // Two streams on each process: the client holds four, the cap, counted over both.
      const streams = [await open(18080), await open(18080), await open(18083), await open(18083)];
      for (const stream of streams) expect(stream.status).toBe(200);
      for (const port of [18080, 18083]) {
        const refused = await open(port);
        expect(refused.status, `port ${port}`).toBe(429);
        expect(refused.headers.get("retry-after")).toBeTruthy();
        expect((await refused.json()).code).toBe("RATE_LIMITED");
      }
      // A stream closed on one process frees a slot that the other process can give out.
      await streams[0].body?.cancel();
      let again: Response | undefined;
      await waitFor(
        "a slot to free up",
        async () => {
          const attempt = await open(18083);
          if (attempt.status !== 200) return false;
          again = attempt;
          return true;
        },
        5000,
        100,
      );
      expect((await open(18080)).status).toBe(429);
      await again?.body?.cancel();
      for (const stream of streams.slice(1)) await stream.body?.cancel();
    } finally {
      await second.stop();
    }
  });
});

describe("stream counts of a process that dies", () => {
  it("are removed when a claim finds the client's count full, so a crashed web process cannot lock a client out", async () => {
    const ctx = createContext(loadConfig({ ...process.env, ...TEST_ENV, LOG_LEVEL: "silent" }), "test-stream-counts");
    const key = ctx.keys.streams("198.51.100.7");
    const [dead, live] = ["web-test-dead", "web-test-live"];
    try {
      await ctx.redis.set(ctx.keys.webLease(live), "1", "PX", 60_000);
      expect(await admitStream(ctx, key, dead, 2)).toBe(true);
      expect(await admitStream(ctx, key, dead, 2)).toBe(true);
      expect(await ctx.redis.hgetall(key)).toEqual({ [dead]: "2" });
      // The hash lives as long as a stream it counts may: SSE_MAX_DURATION and a minute.
      expect(await ctx.redis.pttl(key)).toBeGreaterThan(ctx.config.SSE_MAX_DURATION);
      // Full: the dead process (no lease) loses its count, the live one is admitted.
      expect(await admitStream(ctx, key, live, 2)).toBe(true);
      expect(await ctx.redis.hgetall(key)).toEqual({ [live]: "1" });
      // A live process's counts are kept: at the cap, the next claim is refused.
      expect(await admitStream(ctx, key, live, 1)).toBe(false);
      expect(await streamReleaseScript.run(ctx.redis, { streams: key }, { process: live, count: 1 })).toBe(0);
      expect(await ctx.redis.exists(key)).toBe(0);
    } finally {
      await ctx.redis.del(key, ctx.keys.webLease(live));
      await ctx.close();
    }
  });
});

describe("client IP behind a trusted proxy", () => {
  it("takes X-Forwarded-For only from TRUSTED_PROXIES, so each real client has its own quota", async () => {
    const slug = await createApp("xff", { pool_target: 4, rate_limit_hourly: 1 });
    apps.push(slug);
    await waitReady(slug, 4);
    const proxied = startWeb({ PORT: "18082", TRUSTED_PROXIES: "127.0.0.1/32, ::1" }, "web-trusted");
    try {
      await waitFor("trusted web", () => webAnswers(18082), 60_000, 250);
      const via = (forwardedFor: string) =>
        fetch("http://127.0.0.1:18082/api/v1/demo/acquire", {
          method: "POST",
          headers: { "content-type": "application/json", "X-API-Key": TEST_API_KEY, "X-Forwarded-For": forwardedFor },
          body: JSON.stringify({ app: slug }),
        });
      expect((await via("203.0.113.1")).status).toBe(200);
      expect((await via("203.0.113.1")).status).toBe(429);
      // A client that prepends a forged hop gains nothing: the right-most untrusted entry counts.
      expect((await via("198.51.100.99, 203.0.113.1")).status).toBe(429);
      expect((await via("203.0.113.2")).status).toBe(200);
    } finally {
      await proxied.stop();
    }
  });
});

describe("request ids", () => {
  it("carries X-Request-ID into the cleanup job a release causes", async () => {
    const slug = await createApp("rid", { pool_target: 1 });
    apps.push(slug);
    await waitReady(slug, 1);
    const { json: instance } = await acquire(slug);
    const requestId = `release-${instance.id}`;
    const released = await api(`/api/v1/demo/${instance.id}`, { method: "DELETE", headers: { "X-Request-ID": requestId } });
    expect(released.headers.get("x-request-id")).toBe(requestId);
    await waitFor(
      "the worker's cleanup line with the request id",
      async () => {
        const lines = readFileSync(".data/logs/test-worker-edge.log", "utf8").split("\n");
        return lines.some((line) => line.includes(`"requestId":"${requestId}"`) && line.includes("instance destroyed"));
      },
      15_000,
      200,
    );
    const webLines = readFileSync(".data/logs/test-web.log", "utf8").split("\n");
    const line = webLines.find((l) => l.includes(`"requestId":"${requestId}"`));
    expect(line && JSON.parse(line)).toMatchObject({ method: "DELETE", route: "demo.release", status: 200 });
  });
});
