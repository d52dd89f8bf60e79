import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acquire, api, createApp, removeApps, throughProxy, waitFor, waitReady } from "./helpers";
import { type Proc, startWorker, TEST_PORT } from "./setup/stack";

const WEB = `http://127.0.0.1:${TEST_PORT}`;
const PUBLIC_URL = `http://localhost:${TEST_PORT}`;
let worker: Proc;
const apps: string[] = [];
beforeAll(() => {
  worker = startWorker("worker-embed");
});
afterAll(() => removeApps(apps, [worker]));

describe("the embed script", () => {
  it("is served small, cacheable, readable from any origin, and under its content hash", async () => {
    const response = await fetch(`${WEB}/embed.js`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("cache-control")).toBe("public, max-age=300");
    const body = Buffer.from(await response.arrayBuffer());
    const gzipped = gzipSync(body, { level: 9 }).length;
    expect(gzipped, `embed.js is ${gzipped} bytes gzipped`).toBeLessThanOrEqual(8 * 1024);
    // No eval, no cookies, no inline handlers.
    const text = body.toString("utf8");
    for (const banned of ["eval(", "new Function", "document.cookie", "onclick=", "innerHTML"])
      expect(text, banned).not.toContain(banned);

    const etag = response.headers.get("etag") ?? "";
    expect(etag).toMatch(/^"[0-9a-f]{16}"$/);
    expect((await fetch(`${WEB}/embed.js`, { headers: { "If-None-Match": etag } })).status).toBe(304);
    const hashed = await fetch(`${WEB}/embed/${etag.slice(1, -1)}.js`);
    expect(hashed.status).toBe(200);
    expect(hashed.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(Buffer.from(await hashed.arrayBuffer()).equals(body)).toBe(true);
    expect((await fetch(`${WEB}/embed/0000000000000000.js`)).status).toBe(404);
  });
});

describe("extension limits", () => {
  it("answers extensions and max_expires_at, and stops at max_extensions with the limit named", async () => {
    const slug = await createApp("ext", { pool_target: 1, max_extensions: 2, extend_minutes: 5, default_ttl_seconds: 600 });
    apps.push(slug);
    await waitReady(slug, 1);
    const { json: instance } = await acquire(slug);
    expect(instance).toMatchObject({ extensions: 0, max_extensions: 2, extend_minutes: 5, cta: null });
    expect(Date.parse(instance.max_expires_at) - Date.parse(instance.assigned_at)).toBe(4 * 3600 * 1000);
    for (const expected of [1, 2]) {
      const extended = await api(`/api/v1/demo/${instance.id}/extend`, { method: "POST", json: {} });
      expect(extended.status).toBe(200);
      expect(extended.json.extensions).toBe(expected);
    }
    const refused = await api(`/api/v1/demo/${instance.id}/extend`, { method: "POST", json: {} });
    expect(refused.status).toBe(400);
    expect(refused.json).toMatchObject({
      code: "MAX_TTL_EXCEEDED",
      details: { limit: "max_extensions", extensions: 2, max_extensions: 2 },
    });
    const got = await api(`/api/v1/demo/${instance.id}`);
    expect(got.json).toMatchObject({ extensions: 2 });
    expect(Date.parse(got.json.expires_at) - Date.parse(instance.expires_at)).toBe(10 * 60_000);
  });

  it("never lets an instance outlive max_lifetime_seconds", async () => {
    const slug = await createApp("life", {
      pool_target: 1,
      default_ttl_seconds: 60,
      max_lifetime_seconds: 120,
      extend_minutes: 1,
    });
    apps.push(slug);
    await waitReady(slug, 1);
    const { json: instance } = await acquire(slug);
    expect((await api(`/api/v1/demo/${instance.id}/extend`, { method: "POST", json: {} })).status).toBe(200);
    const refused = await api(`/api/v1/demo/${instance.id}/extend`, { method: "POST", json: {} });
    expect(refused.json).toMatchObject({ code: "MAX_TTL_EXCEEDED", details: { limit: "max_lifetime" } });
  });
});

describe("the launch page", () => {
  it("starts apps whose launch page is on from PUBLIC_URL with no key; nothing else without one", async () => {
    const open = await createApp("pub", {
      pool_target: 1,
      launch_page: true,
      cta_label: "Start your trial",
      cta_url: "https://example.com/signup",
    });
    const closed = await createApp("priv", { pool_target: 1 });
    apps.push(open, closed);
    await waitReady(open, 1);
    const keyless = (path: string, init: Parameters<typeof api>[1] = {}) => api(path, { ...init, key: null });

    // This suite runs with API_KEY set: without the launch page rule every call below would be 401.
    const started = await keylessAcquire(open, PUBLIC_URL);
    expect(started.status).toBe(200);
    expect(started.json.cta).toEqual({ label: "Start your trial", url: "https://example.com/signup" });
    const { id, token } = started.json;
    expect((await keyless(`/api/v1/demo/${id}`)).status).toBe(401);
    expect((await keyless(`/api/v1/demo/${id}`, { headers: { "X-Instance-Token": token } })).status).toBe(200);
    // Extended only once opened (extend_requires_visit): first a visit through the proxy.
    const extend = () =>
      keyless(`/api/v1/demo/${id}/extend`, { method: "POST", json: {}, headers: { "X-Instance-Token": token } });
    expect((await extend()).json.code).toBe("NOT_VISITED");
    expect((await throughProxy(id, "/")).status).toBe(200);
    await waitFor("the extension after the visit", async () => (await extend()).status === 200, 20_000, 500);
    expect((await keyless(`/api/v1/demo/${id}`, { method: "DELETE", headers: { "X-Instance-Token": "wrong" } })).status).toBe(
      401,
    );
    expect((await keyless(`/api/v1/demo/${id}`, { method: "DELETE", headers: { "X-Instance-Token": token } })).status).toBe(200);

    expect((await keylessAcquire(closed, PUBLIC_URL)).status).toBe(404); // launch page off: as if it did not exist
    expect((await keylessAcquire(open, "http://evil.example")).status).toBe(401);
    expect((await keylessAcquire(open, null)).status).toBe(401);

    const page = await fetch(`${WEB}/try/${closed}`);
    expect(page.status).toBe(404);
    const html = await page.text();
    expect(html).toContain("This demo is not public");
    expect(html).not.toMatch(/API key|X-API-Key/);
    expect((await fetch(`${WEB}/try/no-such-app`)).status).toBe(404);
    expect((await fetch(`${WEB}/try/${open}`)).status).toBe(200);
  });
});

/** An acquire with no key at all, from a page of the given origin (null: no Origin header). */
/** An acquire without a key, as the launch page sends it (solving the app's challenge like the embed). */
async function keylessAcquire(app: string, origin: string | null) {
  const headers: Record<string, string> = {};
  if (origin) headers.Origin = origin;
  const response = await acquire(app, { ...headers, "X-API-Key": "" });
  return { status: response.status, json: response.json as Record<string, string> };
}
