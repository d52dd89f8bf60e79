import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Proc, startWorker } from "./setup/stack";
import { acquire, api, createApp, removeApps, waitFor, waitReady } from "./helpers";

let worker: Proc;
const apps: string[] = [];
beforeAll(() => {
  worker = startWorker("worker-limits");
});
afterAll(() => removeApps(apps, [worker]));

describe("per-IP limits inside the acquire script", () => {
  it("an empty pool consumes no quota; the limit then bites with 429, Retry-After and RateLimit headers", async () => {
    const slug = await createApp("rl", { pool_target: 0, pool_max: 10, rate_limit_hourly: 2 });
    apps.push(slug);
    for (let i = 0; i < 3; i += 1) {
      const empty = await acquire(slug);
      expect(empty.status).toBe(503);
      expect(empty.json.code).toBe("POOL_EXHAUSTED");
      expect(empty.headers.get("retry-after")).toBeTruthy();
      expect(empty.headers.get("ratelimit")).toMatch(/"hourly";r=2;t=\d+/);
    }
    await api(`/api/v1/apps/${slug}`, { method: "PATCH", json: { pool_target: 3 } });
    await waitReady(slug, 3);
    const first = await acquire(slug);
    expect(first.status).toBe(200);
    expect(first.headers.get("ratelimit-policy")).toBe('"hourly";q=2;w=3600');
    expect(first.headers.get("ratelimit")).toMatch(/"hourly";r=1;t=\d+/);
    expect((await acquire(slug)).status).toBe(200);
    const limited = await acquire(slug);
    expect(limited.status).toBe(429);
    expect(limited.json).toMatchObject({ code: "RATE_LIMITED" });
    const retryAfter = Number(limited.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect(limited.headers.get("ratelimit")).toMatch(/"hourly";r=0;t=\d+/);
    // A forged X-Forwarded-For from an untrusted peer changes nothing: still the same client.
    for (const forged of ["203.0.113.9", "198.51.100.1, 203.0.113.7", "::1"]) {
      const again = await acquire(slug, { "X-Forwarded-For": forged, "X-Real-IP": forged });
      expect(again.status).toBe(429);
    }
    // The refused attempts took no instance.
    const stats = (await api("/api/v1/pool/stats")).json.apps.find((a: { app: string }) => a.app === slug);
    expect(stats.assigned).toBe(2);
  });

  it("the daily limit bites too", async () => {
    const slug = await createApp("rld", { pool_target: 2, rate_limit_daily: 1 });
    apps.push(slug);
    await waitReady(slug, 2);
    expect((await acquire(slug)).status).toBe(200);
    const limited = await acquire(slug);
    expect(limited.status).toBe(429);
    expect(limited.json.details).toEqual({ limit: "daily" });
  });
});

describe("/health and /metrics", () => {
  it("/health reports every dependency", async () => {
    const { status, json } = await api("/health", { key: null });
    expect(status).toBe(200);
    for (const dep of ["redis", "docker", "caddy", "mariadb", "nats"]) expect(json.checks[dep], dep).toMatchObject({ ok: true });
    expect(json.status).toBe("ok");
  });

  it("/metrics exposes pool, acquire and (merged from the worker) provisioning metrics", async () => {
    const slug = await createApp("met", { pool_target: 1 });
    apps.push(slug);
    await waitReady(slug, 1);
    await acquire(slug);
    const text = await waitFor(
      "worker metrics merged",
      async () => {
        const response = await api("/metrics");
        return response.text.includes(`tin_provision_duration_seconds_count{app="${slug}"}`) && response.text;
      },
      20_000,
      500,
    );
    expect(text).toMatch(new RegExp(`tin_acquisitions_total\\{app="${slug}",result="ok"\\} 1`));
    expect(text).toContain("tin_acquire_duration_seconds_bucket");
    expect(text).toMatch(new RegExp(`tin_pool_instances\\{app="${slug}",state="assigned"\\} 1`));
    for (const family of ["tin_provision_failures_total", "tin_instances_expired_total", "tin_instances_released_total"]) {
      expect(text).toContain(`# TYPE ${family} counter`);
    }
  });
});
