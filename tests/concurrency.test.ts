import { afterAll, describe, expect, it } from "vitest";
import { acquire, api, appStats, containersOf, createApp, removeApps, waitReady } from "./helpers";
import { type Proc, startWorker } from "./setup/stack";

const workers: Proc[] = [];
const apps: string[] = [];

afterAll(() => removeApps(apps, workers));

describe("concurrency", () => {
  it("200 concurrent acquires against a pool of 5: exactly 5 distinct successes, the rest 503", async () => {
    const worker = startWorker("worker-concurrency-a");
    const slug = await createApp("conc", { pool_target: 5, pool_max: 10 });
    apps.push(slug);
    await waitReady(slug, 5);
    // No refill while the burst runs: the pool holds exactly 5.
    expect(await worker.stop()).toBe(0);

    const results = await Promise.all(Array.from({ length: 200 }, () => acquire(slug)));
    const ok = results.filter((r) => r.status === 200);
    const exhausted = results.filter((r) => r.status === 503);
    expect(ok).toHaveLength(5);
    expect(new Set(ok.map((r) => r.json.id)).size).toBe(5);
    expect(exhausted).toHaveLength(195);
    for (const response of exhausted) {
      expect(response.json.code).toBe("POOL_EXHAUSTED");
      expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
    }
    const stats = await appStats(slug);
    expect(stats).toMatchObject({ ready: 0, assigned: 5, warming: 0 });
  });

  it("two workers at once never push ready + warming past the target, nor containers past it", async () => {
    const slug = await createApp("pair", { pool_target: 6, pool_max: 12 });
    apps.push(slug);
    workers.push(startWorker("worker-pair-1"), startWorker("worker-pair-2"));
    let maxSeen = 0;
    let maxContainers = 0;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const [stats, containers] = await Promise.all([appStats(slug), containersOf(slug)]);
      const total = (stats?.ready ?? 0) + (stats?.warming ?? 0);
      maxSeen = Math.max(maxSeen, total);
      maxContainers = Math.max(maxContainers, containers.length);
      if (stats?.ready === 6) break;
      if (Date.now() > deadline) throw new Error(`pool never filled: ${JSON.stringify(stats)}`);
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    expect(maxSeen).toBeLessThanOrEqual(6);
    expect(maxContainers).toBeLessThanOrEqual(6);
    // A few more ticks of both workers change nothing.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await containersOf(slug)).length).toBe(6);
    expect(await appStats(slug)).toMatchObject({ ready: 6, warming: 0 });
  });

  it("POOL_MAX_SIZE caps ready + warming + assigned per app", async () => {
    const slug = await createApp("cap", { pool_target: 2, pool_max: 3 });
    apps.push(slug);
    await waitReady(slug, 2);
    expect((await acquire(slug)).status).toBe(200);
    expect((await acquire(slug)).status).toBe(200);
    // 2 assigned: only 1 more may exist although the target is 2.
    await waitReady(slug, 1);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const stats = await appStats(slug);
    expect(stats).toMatchObject({ assigned: 2, ready: 1, warming: 0, capacity: 3 });
    expect((await containersOf(slug)).length).toBe(3);
    const { json } = await api("/api/v1/pool/stats");
    expect(json.capacity).toBeGreaterThanOrEqual(3);
  });
});
