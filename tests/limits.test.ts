import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acquire, api, createApp, removeApps, waitFor, waitReady } from "./helpers";
import { type Proc, startWeb, startWorker, TEST_API_KEY, webAnswers } from "./setup/stack";

/** A web of the test stack that trusts loopback as its front proxy. */
const TRUSTED_PORT = 18088;

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
  it("/health reports every dependency (the container runtime as the worker finds it) to a key with `metrics`, and only the status to anyone", async () => {
    const json = await waitFor(
      "ok",
      async () => {
        const answer = await api("/health");
        return answer.status === 200 && answer.json.status === "ok" && answer.json;
      },
      30_000,
      250,
    );
    for (const dep of ["redis", "docker", "caddy", "mariadb", "nats"]) expect(json.checks[dep], dep).toMatchObject({ ok: true });
    expect(
      json.workers.some(
        (worker: { live: boolean; loops: Record<string, unknown> }) => worker.live && "replenish" in worker.loops,
      ),
    ).toBe(true);
    const open = await api("/health", { key: null });
    expect(open.json).toEqual({ status: "ok", reasons: [] });
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

describe("the app's drain cap (acquire_rate)", () => {
  it("turns away the acquire past the cap whatever the address, as a 503 with its own reason, counted as capped, not exhausted", async () => {
    // Behind a trusted proxy, every request names its own client: per-address limits cannot see this.
    const web = startWeb({ PORT: String(TRUSTED_PORT), TRUSTED_PROXIES: "127.0.0.1" }, "web-trusted-proxy");
    try {
      await waitFor("the second web", () => webAnswers(TRUSTED_PORT), 60_000, 250);
      const slug = await createApp("capped", { pool_target: 5, pool_max: 10, acquire_rate: 3, rate_limit_hourly: 1 });
      apps.push(slug);
      await waitReady(slug, 5);
      const from = (address: string) =>
        fetch(`http://127.0.0.1:${TRUSTED_PORT}/api/v1/demo/acquire`, {
          method: "POST",
          headers: { "content-type": "application/json", "X-API-Key": TEST_API_KEY, "X-Forwarded-For": address },
          body: JSON.stringify({ app: slug }),
        });
      const answers = [];
      for (const address of ["198.51.100.31", "198.51.100.32", "198.51.100.33", "198.51.100.34"])
        answers.push(await from(address));
      expect(answers.slice(0, 3).map((answer) => answer.status)).toEqual([200, 200, 200]);
      const capped = answers[3];
      expect(capped.status).toBe(503);
      expect(await capped.json()).toMatchObject({ code: "POOL_EXHAUSTED", details: { reason: "capped" } });
      const retryAfter = Number(capped.headers.get("retry-after"));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(20);
      // Two instances are still ready: it was the cap, not the pool.
      expect(
        (await api("/api/v1/pool/stats")).json.apps.find((app: { app: string }) => app.app === slug).ready,
      ).toBeGreaterThanOrEqual(2);
      const funnel = await waitFor(
        "the refusal in the funnel",
        async () => {
          const answer = (await api(`/api/v1/analytics/funnel?app=${slug}`)).json;
          return answer.rejected.capped >= 1 ? answer : null;
        },
        30_000,
        250,
      );
      expect(funnel.rejected).toMatchObject({ capped: 1, exhausted: 0 });
      // The web that answered counted it (each web process counts its own acquires).
      const metrics = await (
        await fetch(`http://127.0.0.1:${TRUSTED_PORT}/metrics`, { headers: { "X-API-Key": TEST_API_KEY } })
      ).text();
      expect(metrics).toMatch(new RegExp(`tin_acquisitions_total\\{app="${slug}",result="capped"\\} 1`));
      // The bucket refills (one acquire every 20 s at 3 a minute); a refused try spends nothing.
      await waitFor(
        "the bucket to refill",
        async () => (await from("198.51.100.35")).status === 200,
        (retryAfter + 5) * 1000,
        500,
      );
    } finally {
      await web.stop();
    }
  });
});
