import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../lib/config";
import { createContext } from "../lib/context";
import type { ApiKeyRow } from "../lib/db/schema";
import { mirrorKey, syncKeyMirror, unmirrorKey } from "../lib/keys/mirror";
import { acquire, api, createApp, removeApps, throughProxy, waitFor, waitReady } from "./helpers";
import { type Proc, startWorker, TEST_ENV } from "./setup/stack";

let worker: Proc;
let slug: string;
let other: string;

beforeAll(async () => {
  worker = startWorker("worker-keys");
  slug = await createApp("keys", { pool_target: 3 });
  other = await createApp("keys-other", { pool_target: 1 });
  await Promise.all([waitReady(slug, 3), waitReady(other, 1)]);
});

afterAll(() => removeApps([slug, other], [worker]));

async function makeKey(body: Record<string, unknown>) {
  const response = await api("/api/v1/keys", { method: "POST", json: body });
  expect(response.status, response.text).toBe(201);
  return response.json as { id: string; key: string; prefix: string; kind: string };
}

describe("secret keys", () => {
  it("are shown once, stored as a prefix and a hash, and listed without the key", async () => {
    const made = await makeKey({ name: "backend", kind: "secret", scopes: ["demo"] });
    expect(made.key).toMatch(/^tin_sk_[A-Za-z0-9_-]{43}$/);
    expect(made.prefix).toBe(made.key.slice(0, 12));
    const list = await api("/api/v1/keys");
    const listed = list.json.keys.find((k: { id: string }) => k.id === made.id);
    expect(listed).toMatchObject({ id: made.id, kind: "secret", prefix: made.prefix, scopes: ["demo"], revoked_at: null });
    expect(JSON.stringify(list.json)).not.toContain(made.key);
    expect(listed.key).toBeUndefined();
    expect(listed.hash).toBeUndefined();
  });

  it("work within their scopes and get 403 outside them", async () => {
    const demo = await makeKey({ name: "demo only", kind: "secret", scopes: ["demo"] });
    expect((await acquire(slug, { "X-API-Key": demo.key })).status).toBe(200);
    expect((await api("/api/v1/pool/stats", { key: demo.key })).status).toBe(200);
    const forbidden = await api("/api/v1/apps", { method: "POST", key: demo.key, json: { slug: "x", image: "y" } });
    expect(forbidden.status).toBe(403);
    expect(forbidden.json.code).toBe("FORBIDDEN");
    expect((await api("/metrics", { key: demo.key })).status).toBe(403);
    expect((await api("/api/v1/keys", { key: demo.key })).status).toBe(403);

    const metricsKey = await makeKey({ name: "prometheus", kind: "secret", scopes: ["metrics"] });
    const viaBearer = await api("/metrics", { key: null, headers: { Authorization: `Bearer ${metricsKey.key}` } });
    expect(viaBearer.status).toBe(200);
    expect(viaBearer.text).toContain("tin_acquisitions_total");
    expect((await api("/metrics", { key: metricsKey.key })).status).toBe(200);
    expect((await api("/metrics", { key: null })).status).toBe(401);
  });

  it("missing, wrong, truncated and revoked keys all get the same 401; revocation bites within the cache TTL", async () => {
    const made = await makeKey({ name: "to revoke", kind: "secret", scopes: ["demo"] });
    expect((await api("/api/v1/pool/stats", { key: made.key })).status).toBe(200);
    const revoked = await api(`/api/v1/keys/${made.id}`, { method: "DELETE" });
    expect(revoked.status).toBe(200);
    expect(revoked.json).toMatchObject({ id: made.id, status: "revoked" });
    expect((await api(`/api/v1/keys/${made.id}`, { method: "DELETE" })).status).toBe(404);
    await waitFor("revocation", async () => (await api("/api/v1/pool/stats", { key: made.key })).status === 401, 5000, 100);

    const bodies = [];
    for (const key of [null, "tin_sk_wrong", made.key.slice(0, -1), made.key, `${made.key}x`, ""]) {
      const response = await api("/api/v1/pool/stats", { key });
      expect(response.status, String(key)).toBe(401);
      const { request_id: _ignored, ...rest } = response.json;
      bodies.push(JSON.stringify(rest));
    }
    expect(new Set(bodies).size).toBe(1);
  });

  it("records last_used_at off the request path", async () => {
    const made = await makeKey({ name: "used", kind: "secret", scopes: ["demo"] });
    await api("/api/v1/pool/stats", { key: made.key });
    await waitFor(
      "last_used_at",
      async () => {
        const list = await api("/api/v1/keys");
        return list.json.keys.find((k: { id: string }) => k.id === made.id)?.last_used_at;
      },
      20_000,
      500,
    );
  });

  it("rejects invalid key requests", async () => {
    for (const body of [
      { name: "x", kind: "publishable", allowed_origins: ["https://a.example"] },
      { name: "x", kind: "publishable", apps: [slug] },
      { name: "x", kind: "publishable", apps: [slug], allowed_origins: ["*"] },
      { name: "x", kind: "secret", scopes: ["root"] },
      { name: "x", kind: "admin" },
      { kind: "secret" },
    ]) {
      const response = await api("/api/v1/keys", { method: "POST", json: body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.json.code).toBe("INVALID_REQUEST");
    }
  });
});

describe("publishable keys", () => {
  const ORIGIN = "http://shop.example";

  it("acquire only for their apps, only from their origins, with CORS echoing the origin", async () => {
    const pk = await makeKey({ name: "embed", kind: "publishable", apps: [slug], allowed_origins: [ORIGIN] });
    expect(pk.key).toMatch(/^tin_pk_/);
    await new Promise((resolve) => setTimeout(resolve, 1200)); // the web's key cache (KEY_CACHE_TTL=1s)

    const ok = await acquire(slug, { "X-API-Key": pk.key, Origin: ORIGIN });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    expect(ok.headers.get("vary")).toContain("Origin");
    expect(ok.json.token).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const evil = await acquire(slug, { "X-API-Key": pk.key, Origin: "http://evil.example" });
    expect(evil.status).toBe(403);
    expect(evil.json.code).toBe("FORBIDDEN");
    expect(evil.headers.get("access-control-allow-origin")).toBeNull();
    expect((await acquire(slug, { "X-API-Key": pk.key })).status).toBe(403);
    // Another app than the key's is answered as an app that does not exist.
    expect((await acquire(other, { "X-API-Key": pk.key, Origin: ORIGIN })).status).toBe(404);
    expect((await api("/api/v1/pool/stats", { key: pk.key, headers: { Origin: ORIGIN } })).status).toBe(403);
    expect((await api("/api/v1/apps", { key: pk.key, headers: { Origin: ORIGIN } })).status).toBe(403);

    const preflight = await api("/api/v1/demo/acquire", {
      method: "OPTIONS",
      key: null,
      headers: { Origin: ORIGIN, "Access-Control-Request-Method": "POST" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    expect(preflight.headers.get("access-control-allow-headers")).toContain("X-API-Key");
    const badPreflight = await api("/api/v1/demo/acquire", {
      method: "OPTIONS",
      key: null,
      headers: { Origin: "http://evil.example" },
    });
    expect(badPreflight.status).toBe(403);
    expect(badPreflight.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("status, extend and release need the instance's token; another id is a plain 404", async () => {
    const pk = await makeKey({ name: "embed2", kind: "publishable", apps: [slug], allowed_origins: [ORIGIN] });
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const headers = { Origin: ORIGIN };
    const { json: mine } = await acquire(slug, { "X-API-Key": pk.key, ...headers });
    await waitReady(slug, 1);
    const { json: theirs } = await acquire(slug); // someone else's instance (secret key)

    const noToken = await api(`/api/v1/demo/${mine.id}`, { key: pk.key, headers });
    expect(noToken.status).toBe(404);
    const withToken = await api(`/api/v1/demo/${mine.id}`, {
      key: pk.key,
      headers: { ...headers, "X-Instance-Token": mine.token },
    });
    expect(withToken.status).toBe(200);
    expect(withToken.json.id).toBe(mine.id);
    // My token does not open their instance, and their id looks exactly like an unknown one.
    const probe = await api(`/api/v1/demo/${theirs.id}`, {
      key: pk.key,
      headers: { ...headers, "X-Instance-Token": mine.token },
    });
    const unknown = await api("/api/v1/demo/aaaaaaaaaaaaaaaaaaaa", {
      key: pk.key,
      headers: { ...headers, "X-Instance-Token": mine.token },
    });
    expect(probe.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(probe.json.error).toBe(unknown.json.error);
    expect(
      (
        await api(`/api/v1/demo/${theirs.id}`, {
          method: "DELETE",
          key: pk.key,
          headers: { ...headers, "X-Instance-Token": mine.token },
        })
      ).status,
    ).toBe(404);

    // EventSource cannot send headers: key and token may come as query parameters.
    const stream = await fetch(`http://127.0.0.1:18080/api/v1/demo/${mine.id}/status?key=${pk.key}&token=${mine.token}`, {
      headers,
    });
    expect(stream.status).toBe(200);
    expect(stream.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    await stream.body?.cancel();
    // Extended with the token once the demo was opened (extend_requires_visit).
    expect((await throughProxy(mine.id, "/")).status).toBe(200);
    await waitFor(
      "the extension after the visit",
      async () =>
        (
          await api(`/api/v1/demo/${mine.id}/extend`, {
            method: "POST",
            key: pk.key,
            headers: { ...headers, "X-Instance-Token": mine.token },
            json: { minutes: 5 },
          })
        ).status === 200,
      20_000,
      500,
    );
    const released = await api(`/api/v1/demo/${mine.id}?token=${mine.token}`, { method: "DELETE", key: pk.key, headers });
    expect(released.status).toBe(200);
    expect((await api(`/api/v1/demo/${theirs.id}`)).status).toBe(200); // theirs untouched
  });

  it("a secret key is never accepted from the query string", async () => {
    const sk = await makeKey({ name: "query", kind: "secret", scopes: ["demo"] });
    const response = await api(`/api/v1/pool/stats?key=${sk.key}`, { key: null });
    expect(response.status).toBe(401);
  });
});

describe("the key mirror", () => {
  // A context of its own prefix: the sync under test is called by hand, not by a worker.
  const ctx = createContext(
    loadConfig({ ...process.env, ...TEST_ENV, VALKEY_PREFIX: "tintest-mirror:", LOG_LEVEL: "silent" }),
    "test-mirror",
  );
  const row = (hash: string) =>
    ({
      id: `key-${hash.slice(0, 6)}`,
      prefix: "tin_sk_test",
      kind: "secret",
      scopes: ["demo"],
      apps: null,
      allowedOrigins: [],
      acquireRate: null,
      hash,
    }) as unknown as ApiKeyRow;
  afterAll(async () => {
    await ctx.redis.del(ctx.keys.apiKeys, ctx.keys.apiKeyChanges);
    await ctx.close();
  });

  it("a sync that read MariaDB before a key was made or revoked through the web undoes neither; a later one applies the database", async () => {
    const made = row("a".repeat(64));
    const revoked = row("b".repeat(64));
    await syncKeyMirror(ctx, [revoked], Date.now());
    const readAtMs = Date.now();
    // Then the web makes one key and revokes the other; the sync goes on with what it read before.
    await mirrorKey(ctx, made);
    await unmirrorKey(ctx, revoked.hash);
    await syncKeyMirror(ctx, [revoked], readAtMs);
    const mirrored = await ctx.redis.hkeys(ctx.keys.apiKeys);
    expect(mirrored).toContain(made.hash);
    expect(mirrored).not.toContain(revoked.hash);
    // What MariaDB says wins once the read is later than the change (the margin is 1 s).
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await syncKeyMirror(ctx, [], Date.now());
    expect(await ctx.redis.hkeys(ctx.keys.apiKeys)).toEqual(["loaded"]);
  });
});
