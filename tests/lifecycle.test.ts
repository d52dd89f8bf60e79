import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acquire, api, containersOf, createApp, removeApps, routeIds, throughProxy, waitFor, waitReady } from "./helpers";
import { type Proc, startWorker, TEST_API_KEY } from "./setup/stack";

let worker: Proc;
let slug: string;

beforeAll(async () => {
  worker = startWorker("worker-lifecycle");
  slug = await createApp("life", { pool_target: 2, default_ttl_seconds: 1800, max_ttl_seconds: 3600 });
  await waitReady(slug, 2);
});

afterAll(() => removeApps([slug], [worker]));

describe("the demo lifecycle through HTTP", () => {
  it("acquire → get → the URL reaches that very container → extend → release → 404", async () => {
    const acquired = await acquire(slug);
    expect(acquired.status).toBe(200);
    const instance = acquired.json;
    expect(instance).toMatchObject({ app: slug, state: "assigned", ttl_seconds: 1800 });
    expect(instance.id).toMatch(/^[a-z2-7]{20}$/);
    expect(instance.url).toBe(`http://${instance.id}.localhost:18081`);
    expect(instance.admin_url).toBe(`http://${instance.id}.localhost:18081/`);
    expect(Date.parse(instance.expires_at) - Date.now()).toBeGreaterThan(1790_000);
    expect(acquired.headers.get("x-request-id")).toBeTruthy();

    const got = await api(`/api/v1/demo/${instance.id}`);
    expect(got.status).toBe(200);
    expect(got.json).toMatchObject({ id: instance.id, app: slug, state: "assigned", url: instance.url });
    expect(got.json.ttl_remaining_seconds).toBeGreaterThan(1790);
    for (const field of ["created_at", "assigned_at", "expires_at"]) expect(Date.parse(got.json[field])).not.toBeNaN();

    const whoami = await throughProxy(instance.id, "/cgi-bin/whoami");
    expect(whoami.status).toBe(200);
    expect(whoami.text.trim()).toBe(instance.id);

    const extended = await api(`/api/v1/demo/${instance.id}/extend`, { method: "POST", json: { minutes: 10 } });
    expect(extended.status).toBe(200);
    expect(extended.json.id).toBe(instance.id);
    expect(extended.json.ttl_remaining).toBeGreaterThan(2390);
    expect(Date.parse(extended.json.expires_at)).toBe(Date.parse(instance.expires_at) + 600_000);

    const released = await api(`/api/v1/demo/${instance.id}`, { method: "DELETE" });
    expect(released.status).toBe(200);
    expect(released.json).toMatchObject({ id: instance.id, status: "released" });
    expect(typeof released.json.message).toBe("string");

    expect((await api(`/api/v1/demo/${instance.id}`)).status).toBe(404);
    const again = await api(`/api/v1/demo/${instance.id}`, { method: "DELETE" });
    expect(again.status).toBe(404);
    expect(again.json).toMatchObject({ code: "NOT_FOUND", request_id: again.headers.get("x-request-id") });
    expect((await api(`/api/v1/demo/${instance.id}/extend`, { method: "POST", json: { minutes: 1 } })).status).toBe(404);

    // The cleanup queue is drained by the worker: container and route go within seconds.
    await waitFor(
      "released container removed",
      async () => (await containersOf(slug)).every((c) => !c.Names[0].includes(instance.id)),
      15_000,
    );
    await waitFor("released route removed", async () => !(await routeIds()).includes(instance.id), 15_000);
    expect((await throughProxy(instance.id, "/")).status).toBe(404);
  });

  it("validates extend: minutes must be an integer 1..60 (or absent: the app's step), and the max TTL holds", async () => {
    await waitReady(slug, 1);
    const { json: instance } = await acquire(slug);
    for (const minutes of [0, -1, 61, "x", 1.5, null]) {
      const response = await api(`/api/v1/demo/${instance.id}/extend`, { method: "POST", json: { minutes } });
      expect(response.status, `minutes=${minutes}`).toBe(400);
      expect(response.json.code).toBe("INVALID_REQUEST");
    }
    const broken = await api(`/api/v1/demo/${instance.id}/extend`, {
      method: "POST",
      body: "{not json",
      headers: { "content-type": "application/json" },
    });
    expect(broken.status).toBe(400);
    // 30 minutes left + 60 > the app's max of 60 minutes remaining.
    const tooLong = await api(`/api/v1/demo/${instance.id}/extend`, { method: "POST", json: { minutes: 60 } });
    expect(tooLong.status).toBe(400);
    expect(tooLong.json.code).toBe("MAX_TTL_EXCEEDED");
    expect(tooLong.json.details.max_ttl_seconds).toBe(3600);
    const ok = await api(`/api/v1/demo/${instance.id}/extend`, { method: "POST", json: { minutes: 30 } });
    expect(ok.status).toBe(200);
    const over = await api(`/api/v1/demo/${instance.id}/extend`, { method: "POST", json: { minutes: 1 } });
    expect(over.json.code).toBe("MAX_TTL_EXCEEDED");
    // Without minutes, the app's extend step (10) is asked for: refused the same way at the limit.
    const step = await api(`/api/v1/demo/${instance.id}/extend`, { method: "POST", json: {} });
    expect(step.json).toMatchObject({ code: "MAX_TTL_EXCEEDED", details: { limit: "max_ttl" } });
    await api(`/api/v1/demo/${instance.id}`, { method: "DELETE" });
  });

  it("answers unknown, malformed and other apps' ids with the same 404", async () => {
    for (const id of ["aaaaaaaaaaaaaaaaaaaa", "short", "../../etc/passwd", "%00", "A".repeat(300)]) {
      const response = await api(`/api/v1/demo/${encodeURIComponent(id)}`);
      expect(response.status, id).toBe(404);
      expect(response.json).toMatchObject({ code: "NOT_FOUND" });
    }
    // A ready (not yet handed out) instance is nobody's: its id is not visible either.
    await waitReady(slug, 1);
    const [container] = await containersOf(slug);
    const readyId = container.Labels["tryitnow.instance"];
    expect((await api(`/api/v1/demo/${readyId}`)).status).toBe(404);
  });

  it("rejects a missing or wrong API key with 401 and the envelope", async () => {
    for (const key of [null, "wrong", ""]) {
      const response = await api("/api/v1/demo/acquire", { method: "POST", json: { app: slug }, key });
      expect(response.status).toBe(401);
      expect(response.json).toMatchObject({ code: "UNAUTHORIZED" });
      expect(response.json.request_id).toBe(response.headers.get("x-request-id"));
    }
    expect((await api("/api/v1/pool/stats", { key: null })).status).toBe(401);
    expect((await api("/metrics", { key: null })).status).toBe(401);
    expect((await api("/health", { key: null })).status).toBe(200);
  });

  it("gives 404 for an unknown app and 400 for a malformed one", async () => {
    const unknown = await acquire("no-such-app");
    expect(unknown.status).toBe(404);
    expect(unknown.json.code).toBe("NOT_FOUND");
    // Made-up slugs never become metric labels (no cardinality to flood).
    expect((await api("/metrics")).text).not.toContain('app="no-such-app"');
    const bad = await api("/api/v1/demo/acquire", { method: "POST", json: { app: "../etc" } });
    expect(bad.status).toBe(400);
    expect(bad.json.code).toBe("INVALID_REQUEST");
    const notObject = await api("/api/v1/demo/acquire", { method: "POST", json: [1, 2] });
    expect(notObject.status).toBe(400);
  });

  it("echoes a sane X-Request-ID and replaces an insane one", async () => {
    const sane = await api("/api/v1/pool/stats", { headers: { "X-Request-ID": "trace-123" } });
    expect(sane.headers.get("x-request-id")).toBe("trace-123");
    const insane = await api("/api/v1/pool/stats", { headers: { "X-Request-ID": "x".repeat(500) } });
    expect(insane.headers.get("x-request-id")).not.toBe("x".repeat(500));
  });

  it("echoes the request id on every response, pages and static files too, and logs one line for each", async () => {
    const paths = ["/", `/try/${slug}`, "/_next/static/missing.js", "/health", "/api/v1/pool/stats", "/api/v1/nothing-here"];
    const ids = new Map<string, string>();
    for (const path of paths) {
      const requestId = `echo-${ids.size}-${Date.now()}`;
      const response = await fetch(`http://127.0.0.1:18080${path}`, {
        headers: { "X-Request-ID": requestId, "X-API-Key": TEST_API_KEY },
      });
      await response.arrayBuffer();
      expect(response.headers.get("x-request-id"), path).toBe(requestId);
      ids.set(requestId, path);
    }
    // The web's JSON log: exactly one request line per id, with method, route, status and duration.
    await waitFor(
      "request log lines",
      async () => {
        const lines = readFileSync(".data/logs/test-web.log", "utf8")
          .split("\n")
          .filter((line) => line.startsWith("{"));
        const records = lines
          .map((line) => JSON.parse(line))
          .filter((record) => ids.has(record.requestId) && record.msg === "request");
        if (records.length < ids.size) return false;
        expect(records).toHaveLength(ids.size);
        for (const record of records) {
          expect(record, ids.get(record.requestId)).toMatchObject({
            method: "GET",
            status: expect.any(Number),
            durationMs: expect.any(Number),
          });
          expect(typeof record.route).toBe("string");
        }
        return true;
      },
      5000,
      100,
    );
  });
});

describe("the SSE countdown", () => {
  it("sends ttl events each second with ids, reflects an extend, and ends with expired on release", async () => {
    await waitReady(slug, 1);
    const { json: instance } = await acquire(slug);
    const response = await fetch(`http://127.0.0.1:18080/api/v1/demo/${instance.id}/status`, {
      headers: { "X-API-Key": "test-secret-key-0123456789" },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    const readUntil = async (pattern: RegExp, timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(text)) {
        if (Date.now() > deadline) throw new Error(`stream never matched ${pattern}: ${text}`);
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value);
      }
    };
    await readUntil(/id: 3\nevent: ttl\n/);
    expect(text).toMatch(/^retry: \d+/);
    const ttls = [...text.matchAll(/data: (\{.*\})/g)].map((m) => JSON.parse(m[1]));
    expect(ttls[0]).toMatchObject({ id: instance.id, state: "assigned" });
    expect(ttls[0].ttl_remaining).toBeGreaterThan(1790);
    expect(ttls[2].ttl_remaining).toBeLessThan(ttls[0].ttl_remaining);

    await api(`/api/v1/demo/${instance.id}/extend`, { method: "POST", json: { minutes: 20 } });
    await readUntil(/"ttl_remaining":(29|30)\d\d/);

    await api(`/api/v1/demo/${instance.id}`, { method: "DELETE" });
    await readUntil(/event: expired\n/);
    const { done } = await reader.read();
    expect(done).toBe(true);
  });

  it("answers 404 for an unknown instance before streaming", async () => {
    const response = await api("/api/v1/demo/aaaaaaaaaaaaaaaaaaaa/status");
    expect(response.status).toBe(404);
  });
});
