import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acquire, api, appStats, containersOf, createApp, removeApps, uniqueSlug, waitFor, waitReady } from "./helpers";
import { type Proc, startWorker } from "./setup/stack";

let worker: Proc;
const apps: string[] = [];
beforeAll(() => {
  worker = startWorker("worker-apps");
});
afterAll(() => removeApps(apps, [worker]));

describe("/api/v1/apps", () => {
  it("creates with defaults, lists, gets, patches, deletes (draining instances)", async () => {
    const slug = uniqueSlug("crud");
    const created = await api("/api/v1/apps", { method: "POST", json: { slug, image: "tryitnow/hello:latest", pool_target: 1 } });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      slug,
      name: slug,
      image: "tryitnow/hello:latest",
      container_port: 8080,
      health_path: "/",
      pool_target: 1,
      read_only_root: true,
      cap_add: [],
    });
    expect(created.json.max_ttl_seconds).toBeGreaterThanOrEqual(created.json.default_ttl_seconds);

    const duplicate = await api("/api/v1/apps", { method: "POST", json: { slug, image: "tryitnow/hello:latest" } });
    expect(duplicate.status).toBe(409);
    expect(duplicate.json.code).toBe("CONFLICT");

    const list = await api("/api/v1/apps");
    expect(list.json.apps.map((a: { slug: string }) => a.slug)).toContain(slug);
    expect((await api(`/api/v1/apps/${slug}`)).json.slug).toBe(slug);

    // The worker picks up the new app and then its change within seconds.
    await waitReady(slug, 1, 30_000);
    const patched = await api(`/api/v1/apps/${slug}`, { method: "PATCH", json: { pool_target: 3, name: "Renamed" } });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ pool_target: 3, name: "Renamed" });
    await waitReady(slug, 3, 30_000);

    const { json: instance } = await acquire(slug);
    const deleted = await api(`/api/v1/apps/${slug}`, { method: "DELETE" });
    expect(deleted.status).toBe(200);
    expect((await api(`/api/v1/apps/${slug}`)).status).toBe(404);
    expect((await api(`/api/v1/apps/${slug}`, { method: "DELETE" })).status).toBe(404);
    expect((await acquire(slug)).status).toBe(404);
    await waitFor("drained", async () => (await containersOf(slug)).length === 0, 30_000, 250);
    expect((await api(`/api/v1/demo/${instance.id}`)).status).toBe(404);
    expect(await appStats(slug)).toBeUndefined();
  });

  it("rejects invalid apps with 400 INVALID_REQUEST and details", async () => {
    const cases: Record<string, unknown>[] = [
      { slug: "Bad_Slug", image: "x" },
      { slug: uniqueSlug("v") },
      { slug: uniqueSlug("v"), image: "tryitnow/hello:latest", pool_min: 3, pool_target: 2 },
      { slug: uniqueSlug("v"), image: "tryitnow/hello:latest", pool_target: 30, pool_max: 10 },
      { slug: uniqueSlug("v"), image: "tryitnow/hello:latest", default_ttl_seconds: 7200, max_ttl_seconds: 3600 },
      { slug: uniqueSlug("v"), image: "tryitnow/hello:latest", cap_add: ["SYS_ADMIN"] },
      { slug: uniqueSlug("v"), image: "tryitnow/hello:latest", env: { TRYIT_INSTANCE_ID: "forged" } },
      { slug: uniqueSlug("v"), image: "tryitnow/hello:latest", health_path: "no-slash" },
      { slug: uniqueSlug("v"), image: "tryitnow/hello:latest", surprise: true },
      { slug: uniqueSlug("v"), image: "tryitnow/hello:latest", container_port: 70000 },
    ];
    for (const body of cases) {
      const response = await api("/api/v1/apps", { method: "POST", json: body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.json.code).toBe("INVALID_REQUEST");
      expect(response.json.request_id).toBeTruthy();
    }
    expect((await api("/api/v1/apps/no-such-app", { method: "PATCH", json: { pool_target: 1 } })).status).toBe(404);
  });

  it("a paused app answers 503 APP_PAUSED, costs no quota, and keeps its pool warm; resuming serves again", async () => {
    const slug = await createApp("paused", { pool_target: 1, rate_limit_hourly: 1 });
    apps.push(slug);
    await waitReady(slug, 1, 30_000);
    expect((await api(`/api/v1/apps/${slug}`, { method: "PATCH", json: { paused: true } })).json.paused).toBe(true);
    const refused = await acquire(slug);
    expect(refused.status).toBe(503);
    expect(refused.json).toMatchObject({ code: "APP_PAUSED" });
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await acquire(slug)).status).toBe(503); // a second try: still no quota spent
    expect((await appStats(slug))?.ready).toBe(1);
    await api(`/api/v1/apps/${slug}`, { method: "PATCH", json: { paused: false } });
    expect((await acquire(slug)).status).toBe(200); // the hourly limit of 1 was not used up while paused
  });

  it("requires the API key", async () => {
    expect((await api("/api/v1/apps", { key: null })).status).toBe(401);
    expect((await api("/api/v1/apps", { method: "POST", key: "nope", json: { slug: "x", image: "y" } })).status).toBe(401);
  });
});
