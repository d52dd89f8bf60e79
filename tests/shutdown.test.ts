import { afterAll, describe, expect, it } from "vitest";
import { redisKeys } from "../lib/store/keys";
import { acquire, api, containersOf, createApp, redis, removeApps, waitFor, waitReady } from "./helpers";
import { startWeb, startWorker, TEST_API_KEY, TEST_PREFIX, webAnswers } from "./setup/stack";

const testKeys = redisKeys(TEST_PREFIX);

const apps: string[] = [];
afterAll(() => removeApps(apps));

describe("graceful shutdown", () => {
  it("web on SIGTERM: finishes in-flight requests, sends SSE clients event: shutdown, exits within 10 s", async () => {
    const worker = startWorker("worker-shutdown-web");
    const slug = await createApp("bye", { pool_target: 2 });
    apps.push(slug);
    await waitReady(slug, 2);
    await worker.stop();
    const { json: instance } = await acquire(slug);

    const web = startWeb({ PORT: "18083" }, "web-shutdown");
    await waitFor("second web", () => webAnswers(18083), 60_000, 250);
    const stream = await fetch(`http://127.0.0.1:18083/api/v1/demo/${instance.id}/status`, {
      headers: { "X-API-Key": TEST_API_KEY },
    });
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    let text = "";
    const read = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        text += new TextDecoder().decode(value);
      }
    })();
    await waitFor("first ttl event", async () => text.includes("event: ttl"), 5000, 50);

    const inFlight = Array.from({ length: 30 }, () =>
      fetch("http://127.0.0.1:18083/api/v1/demo/acquire", {
        method: "POST",
        headers: { "content-type": "application/json", "X-API-Key": TEST_API_KEY },
        body: JSON.stringify({ app: slug }),
      }).then((r) => r.status),
    );
    await new Promise((resolve) => setTimeout(resolve, 5));
    const stoppedAt = Date.now();
    web.child.kill("SIGTERM");
    const statuses = await Promise.allSettled(inFlight);
    const code = await web.exited;
    const tookMs = Date.now() - stoppedAt;
    await read;

    expect(code).toBe(0);
    expect(tookMs).toBeLessThan(10_000);
    expect(text).toMatch(/event: shutdown\n/);
    // Every request that reached the server got its answer (none cut off mid-way with a reset).
    const answered = statuses.filter((s) => s.status === "fulfilled").map((s) => (s as PromiseFulfilledResult<number>).value);
    for (const status of answered) expect([200, 503]).toContain(status);
    expect(answered.filter((s) => s === 200).length).toBeLessThanOrEqual(1);
    await expect(fetch("http://127.0.0.1:18083/health")).rejects.toThrow();
  });

  it("worker on SIGTERM: rolls back in-flight provisioning (no container or record left), exits within 10 s", async () => {
    const slug = await createApp("halt", { pool_target: 3, health_path: "/never-healthy" });
    apps.push(slug);
    const worker = startWorker("worker-halt");
    await waitFor("provisions in flight", async () => (await containersOf(slug)).length === 3, 30_000, 100);
    const stoppedAt = Date.now();
    worker.child.kill("SIGTERM");
    const code = await worker.exited;
    expect(code).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    expect(await containersOf(slug)).toHaveLength(0);
    const keys = testKeys.app(slug);
    expect(await redis.scard(keys.warming)).toBe(0);
    expect(await redis.llen(keys.ready)).toBe(0);
    const stats = (await api("/api/v1/pool/stats")).json.apps.find((a: { app: string }) => a.app === slug);
    expect(stats).toMatchObject({ ready: 0, warming: 0 });
  });
});
