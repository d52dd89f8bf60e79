import { existsSync, readFileSync } from "node:fs";
import { jetstream } from "@nats-io/jetstream";
import { afterAll, describe, expect, it } from "vitest";
import { busNames, connectBus } from "../lib/bus/nats";
import { loadConfig } from "../lib/config";
import { redisKeys } from "../lib/store/keys";
import { acquire, api, containersOf, createApp, getWithHost, redis, removeApps, waitReady } from "./helpers";
import { type Proc, startWorker, TEST_API_KEY, TEST_PORT, TEST_PREFIX, waitFor } from "./setup/stack";

const testKeys = redisKeys(TEST_PREFIX);
const apps: string[] = [];
let worker: Proc | undefined;

afterAll(() => removeApps(apps, worker ? [worker] : []));

let runs = 0;
const logs = new Map<Proc, string>();
/** A worker that has finished its start (the app default is settled when it logs "worker started"). */
async function startedWorker(env: Record<string, string> = {}): Promise<Proc> {
  runs += 1;
  const name = `worker-contracts-${process.pid}-${runs}`;
  const log = `.data/logs/test-${name}.log`;
  const proc = startWorker(name, env);
  logs.set(proc, log);
  await waitFor(
    `${name} to start`,
    async () => existsSync(log) && readFileSync(log, "utf8").includes('"msg":"worker started"'),
    60_000,
    100,
  );
  return proc;
}
const appliedChanges = (proc: Proc) => readFileSync(logs.get(proc) ?? "", "utf8").includes("changed variables applied");

const getDefault = async () => (await api("/api/v1/apps/default")).json;
const mirroredTtlMs = async () => Number(await redis.hget(testKeys.app("default").cfg, "default_ttl_ms"));

describe("the app default and the environment", () => {
  it("keeps what the API set across restarts, and applies a variable only when its value changed", async () => {
    worker = await startedWorker();
    const seeded = await getDefault();
    expect(seeded).toMatchObject({ slug: "default", image: "tryitnow/hello:latest", default_ttl_seconds: 1800 });

    // An owner's edits through the API ...
    const patched = await api("/api/v1/apps/default", {
      method: "PATCH",
      json: { name: "Renamed by the owner", pool_max: 15, health_path: "/healthz", default_ttl_seconds: 900 },
    });
    expect(patched.status).toBe(200);

    // ... survive a restart with the same environment.
    await worker.stop();
    worker = await startedWorker();
    expect(await getDefault()).toMatchObject({
      name: "Renamed by the owner",
      pool_max: 15,
      health_path: "/healthz",
      default_ttl_seconds: 900,
    });

    // A variable whose value changed is applied at the next start; the other edits stay.
    await worker.stop();
    worker = await startedWorker({ POOL_DEFAULT_TTL: "45m" });
    expect(await getDefault()).toMatchObject({
      name: "Renamed by the owner",
      pool_max: 15,
      health_path: "/healthz",
      default_ttl_seconds: 2700,
    });
    expect(await mirroredTtlMs()).toBe(2_700_000); // acquire sees it too

    // An API edit after that sticks again, and changing the variable back applies it once more.
    await api("/api/v1/apps/default", { method: "PATCH", json: { default_ttl_seconds: 600 } });
    await worker.stop();
    worker = await startedWorker({ POOL_DEFAULT_TTL: "45m" });
    expect((await getDefault()).default_ttl_seconds).toBe(600);
    await worker.stop();
    worker = await startedWorker();
    expect(await getDefault()).toMatchObject({ default_ttl_seconds: 1800, pool_max: 15, name: "Renamed by the owner" });
    expect(await mirroredTtlMs()).toBe(1_800_000);
  });

  it("two workers starting at once with a changed variable apply it once and agree", async () => {
    await api("/api/v1/apps/default", { method: "PATCH", json: { name: "Before the race" } });
    await worker?.stop();
    const [a, b] = await Promise.all([startedWorker({ POOL_MAX_TTL: "3h" }), startedWorker({ POOL_MAX_TTL: "3h" })]);
    worker = a;
    await b.stop();
    expect(await getDefault()).toMatchObject({ max_ttl_seconds: 10_800, name: "Before the race" });
    // The row lock serialises the two starts: one applied the change, the other found it applied.
    expect([appliedChanges(a), appliedChanges(b)].filter(Boolean)).toHaveLength(1);
  });
});

describe("payloads between processes", () => {
  it("a malformed worker metrics snapshot is dropped; /metrics still answers with every good one", async () => {
    await redis.hset(testKeys.workerMetrics, "broken-json", "{not json");
    await redis.hset(testKeys.workerMetrics, "wrong-shape", JSON.stringify({ atMs: Date.now(), metrics: [{ name: 5 }] }));
    const response = await api("/metrics");
    expect(response.status).toBe(200);
    expect(response.text).toContain("tin_http_requests_total");
    expect(await redis.hexists(testKeys.workerMetrics, "broken-json")).toBe(0);
    expect(await redis.hexists(testKeys.workerMetrics, "wrong-shape")).toBe(0);
  });

  it("malformed instance events and cleanup jobs are dropped; real ones still work", async () => {
    const slug = await createApp("contract", { pool_target: 1 });
    apps.push(slug);
    await waitReady(slug, 1);
    const { json: instance } = await acquire(slug);
    const response = await fetch(`http://127.0.0.1:${TEST_PORT}/api/v1/demo/${instance.id}/status`, {
      headers: { "X-API-Key": TEST_API_KEY },
    });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    /** Reads until the text after `from` matches. */
    const readUntil = async (pattern: RegExp, from = 0) => {
      const deadline = Date.now() + 10_000;
      while (!pattern.test(text.slice(from))) {
        if (Date.now() > deadline) throw new Error(`stream never matched ${pattern}: ${text}`);
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value);
      }
    };
    await readUntil(/event: ttl/);
    // Garbage on the events channel, and an "extended" without its time: neither ends nor breaks the stream.
    await redis.publish(testKeys.events, "not json at all");
    await redis.publish(testKeys.events, JSON.stringify({ type: "extended", id: instance.id }));
    await redis.publish(testKeys.events, JSON.stringify({ type: "released" }));
    await readUntil(/id: \d+\nevent: ttl\n[\s\S]*id: \d+\nevent: ttl\n/, text.length);
    expect(text).not.toContain("event: expired");

    // Malformed jobs ahead of a real release on the bus: dropped, and the release is still cleaned up.
    const nc = await connectBus(loadConfig().NATS_URL);
    const subject = busNames(TEST_PREFIX).cleanupSubject;
    await jetstream(nc).publish(subject, "{broken");
    await jetstream(nc).publish(subject, JSON.stringify({ id: 42 }));
    await nc.close();
    expect((await api(`/api/v1/demo/${instance.id}`, { method: "DELETE" })).status).toBe(200);
    await readUntil(/event: expired\n/);
    await waitFor(
      "the released container to be removed",
      async () => (await containersOf(slug)).every((c) => !c.Names[0].includes(instance.id)),
      20_000,
      200,
    );
  });
});

describe("PUBLIC_URL", () => {
  it("the launch page's own links come from it, not from the Host header a client sends", async () => {
    const response = await getWithHost(TEST_PORT, "evil.example", "/try/default");
    expect(response.status).toBe(200);
    const html = response.text;
    expect(html).toContain(`<link rel="canonical" href="http://localhost:${TEST_PORT}/try/default"/>`);
    expect(html).toContain(`href="http://localhost:${TEST_PORT}/try/default"`);
    expect(html).not.toContain("evil.example");
  });
});
