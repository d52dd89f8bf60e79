import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { acquire, api, containersOf, createApp, removeApps, routeIds, waitReady } from "./helpers";
import {
  type Proc,
  startFaultyWorker,
  startProcess,
  startWeb,
  startWorker,
  TEST_API_KEY,
  waitFor,
  webAnswers,
} from "./setup/stack";

/** Cleanup jobs on the real NATS JetStream: one worker per job, redelivery, dead letters, an outage. */
const apps: string[] = [];
const running = new Set<Proc>();
afterAll(() => removeApps(apps, [...running]));

let runs = 0;
/**
 * A worker for these tests. Its reconciler waits 10 minutes between passes (it still runs once at
 * start): otherwise it would remove a released container as an orphan before the job under test does.
 */
function worker(kind: "plain" | `${"fail" | "hang"}:${string}` = "plain", extra: Record<string, string> = {}) {
  runs += 1;
  const name = `worker-jobs-${process.pid}-${runs}`;
  const env = { RECONCILE_INTERVAL: "10m", ...extra };
  const proc = kind === "plain" ? startWorker(name, env) : startFaultyWorker(name, kind, env);
  running.add(proc);
  return { proc, log: `.data/logs/test-${name}.log` };
}
async function stop(proc: Proc, signal: NodeJS.Signals = "SIGTERM") {
  await proc.stop(signal);
  running.delete(proc);
}
const logged = (log: string, text: string) => existsSync(log) && readFileSync(log, "utf8").includes(text);
const destroyedIn = (log: string) =>
  existsSync(log)
    ? readFileSync(log, "utf8")
        .split("\n")
        .filter((line) => line.includes('"kind":"cleanup"') && line.includes('"msg":"instance destroyed"'))
        .map((line) => JSON.parse(line).instance as string)
    : [];
const gone = async (slug: string, id: string) =>
  (await containersOf(slug)).every((c) => !c.Names[0].includes(id)) && !(await routeIds()).includes(id);

async function cleanupOk(): Promise<number> {
  const { text } = await api("/metrics");
  const line = text.split("\n").find((l) => l.startsWith('tin_jobs_total{kind="cleanup",outcome="ok"}'));
  return line ? Number(line.split(" ").pop()) : 0;
}

describe("cleanup jobs", () => {
  it("a release's container and route are gone within seconds, and tin_jobs_total{outcome=ok} rose by one", async () => {
    const { proc } = worker();
    const slug = await createApp("jobs", { pool_target: 2 });
    apps.push(slug);
    await waitReady(slug, 2);
    const before = await cleanupOk();
    const { json: instance } = await acquire(slug);
    expect((await api(`/api/v1/demo/${instance.id}`, { method: "DELETE" })).status).toBe(200);
    await waitFor("container and route removed", () => gone(slug, instance.id), 10_000, 100);
    // Worker metrics reach /metrics through their 5-second snapshots.
    await waitFor("the ok counter to rise", async () => (await cleanupOk()) === before + 1, 15_000, 500);
    await stop(proc);
  });

  it("two workers never both run one job", async () => {
    const a = worker();
    const b = worker();
    const slug = await createApp("pair", { pool_target: 6, pool_max: 12 });
    apps.push(slug);
    await waitReady(slug, 6, 90_000);
    const ids: string[] = [];
    for (let i = 0; i < 6; i += 1) ids.push((await acquire(slug)).json.id);
    await Promise.all(ids.map((id) => api(`/api/v1/demo/${id}`, { method: "DELETE" })));
    await waitFor(
      "all six removed",
      async () => (await Promise.all(ids.map((id) => gone(slug, id)))).every(Boolean),
      20_000,
      200,
    );
    const handled = [...destroyedIn(a.log), ...destroyedIn(b.log)].filter((id) => ids.includes(id));
    expect(handled.sort()).toEqual([...ids].sort());
    await Promise.all([stop(a.proc), stop(b.proc)]);
  });

  it("a worker killed while holding a job: another worker finishes it after the ack wait", async () => {
    const slug = await createApp("held", { pool_target: 1 });
    apps.push(slug);
    const doomed = worker(`hang:${slug}`);
    await waitReady(slug, 1);
    const { json: instance } = await acquire(slug);
    await api(`/api/v1/demo/${instance.id}`, { method: "DELETE" });
    await waitFor("the doomed worker to hold the job", async () => logged(doomed.log, "fault: holding the job"), 10_000, 100);
    await stop(doomed.proc, "SIGKILL");
    expect(await gone(slug, instance.id)).toBe(false);
    const survivor = worker();
    // JOB_ACK_WAIT is 3 s in the test stack. (The survivor's start-up reconcile may remove the orphan
    // container first; what counts here is that the job itself is finished, by the survivor.)
    try {
      await waitFor("the survivor to finish the job", async () => destroyedIn(survivor.log).includes(instance.id), 20_000, 200);
      await waitFor("its container and route removed", () => gone(slug, instance.id), 10_000, 200);
    } finally {
      await stop(survivor.proc);
    }
  });

  it("a job that keeps failing becomes a dead letter after the limit; it is listed, and a retry runs it", async () => {
    const slug = await createApp("dead", { pool_target: 1 });
    apps.push(slug);
    const failing = worker(`fail:${slug}`);
    await waitReady(slug, 1);
    const { json: instance } = await acquire(slug);
    const released = await api(`/api/v1/demo/${instance.id}`, { method: "DELETE" });
    const letter = await waitFor(
      "the dead letter",
      async () => (await api("/api/v1/jobs/dead")).json?.dead?.find((d: { job: { id: string } }) => d.job.id === instance.id),
      30_000,
      250,
    );
    // JOB_MAX_DELIVER is 3 in the test stack.
    expect(letter).toMatchObject({
      kind: "cleanup",
      attempts: 3,
      error: "injected cleanup failure (test)",
      request_id: released.headers.get("x-request-id"),
    });
    expect(await gone(slug, instance.id)).toBe(false);
    await stop(failing.proc);

    // Retrying needs the new scope: a key without it is refused.
    const made = await api("/api/v1/keys", {
      method: "POST",
      json: { name: "metrics only", kind: "secret", scopes: ["metrics"] },
    });
    expect((await api(`/api/v1/jobs/dead/${letter.id}/retry`, { method: "POST", key: made.json.key })).status).toBe(403);
    await api(`/api/v1/keys/${made.json.id}`, { method: "DELETE" });

    const healthy = worker();
    const retried = await api(`/api/v1/jobs/dead/${letter.id}/retry`, { method: "POST" });
    expect(retried.status).toBe(200);
    await waitFor("the retried job to run", async () => destroyedIn(healthy.log).includes(instance.id), 15_000, 200);
    await waitFor("its container removed", () => gone(slug, instance.id), 15_000, 200);
    expect((await api("/api/v1/jobs/dead")).json.dead.some((d: { id: string }) => d.id === letter.id)).toBe(false);
    expect((await api(`/api/v1/jobs/dead/${letter.id}/retry`, { method: "POST" })).status).toBe(404);
    await stop(healthy.proc);
  });

  it("NATS down during releases: each release still answers 200 at once, and every container is removed", async () => {
    // A NATS of its own, so stopping it disturbs nothing else; a web and a worker that use it.
    mkdirSync(".data/test-nats-jobs", { recursive: true });
    const nats = startProcess("nats-jobs", "nats-server", [
      "-a",
      "127.0.0.1",
      "-p",
      "14222",
      "-js",
      "-sd",
      ".data/test-nats-jobs",
    ]);
    const env = { NATS_URL: "nats://127.0.0.1:14222" };
    const web = startWeb({ ...env, PORT: "18084" }, "web-jobs");
    // This worker reconciles every 2 s, as the test stack does: the reconciler is the path under test.
    const own = worker("plain", { ...env, RECONCILE_INTERVAL: "2s" });
    running.add(nats);
    running.add(web);
    await waitFor("the web of this test", () => webAnswers(18084), 60_000, 250);
    const slug = await createApp("nonats", { pool_target: 3 });
    apps.push(slug);
    await waitReady(slug, 3, 60_000);
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) ids.push((await acquire(slug)).json.id);

    await stop(nats, "SIGKILL");
    for (const id of ids) {
      const started = performance.now();
      const response = await fetch(`http://127.0.0.1:18084/api/v1/demo/${id}`, {
        method: "DELETE",
        headers: { "X-API-Key": TEST_API_KEY },
      });
      expect(response.status).toBe(200);
      expect(performance.now() - started).toBeLessThan(1000);
    }
    // No job reached a worker: the reconciler (every 2 s here) removes the containers whose record is gone.
    await waitFor(
      "every released container removed",
      async () => (await Promise.all(ids.map((id) => gone(slug, id)))).every(Boolean),
      30_000,
      250,
    );
    await stop(own.proc);
    await stop(web);
  });
});
