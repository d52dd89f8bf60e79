/**
 * The block list and the abuse trail against the real stack (ARCHITECTURE.md, "Drain protection"):
 * a second web that trusts loopback as its front proxy, so each request names its own client
 * address (`X-Forwarded-For`), as visitors behind the bundled proxy do.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pruneTrail } from "../lib/abuse/trail";
import { loadConfig } from "../lib/config";
import { createContext } from "../lib/context";
import { api, createApp, removeApps, waitFor, waitReady } from "./helpers";
import { type Proc, startWeb, startWorker, TEST_API_KEY, TEST_ENV, testDbQuery, webAnswers } from "./setup/stack";

const PORT = 18089;
let worker: Proc;
let web: Proc;
const apps: string[] = [];

function from(address: string, app: string, init: { path?: string; method?: string; key?: string } = {}) {
  return fetch(`http://127.0.0.1:${PORT}${init.path ?? "/api/v1/demo/acquire"}`, {
    method: init.method ?? "POST",
    headers: { "content-type": "application/json", "X-API-Key": init.key ?? TEST_API_KEY, "X-Forwarded-For": address },
    body: init.method === "DELETE" ? undefined : JSON.stringify({ app }),
  });
}

beforeAll(async () => {
  worker = startWorker("worker-abuse");
  web = startWeb({ PORT: String(PORT), TRUSTED_PROXIES: "127.0.0.1" }, "web-abuse");
  await waitFor("the second web", () => webAnswers(PORT), 60_000, 250);
});
afterAll(async () => {
  await web.stop();
  await removeApps(apps, [worker]);
});

describe("the block list", () => {
  it("refuses a blocked address or network with 403 BLOCKED inside the acquire, audited, until unblocked", async () => {
    const slug = await createApp("blocked", { pool_target: 3 });
    apps.push(slug);
    await waitReady(slug, 3);
    const made = await api("/api/v1/blocks", {
      method: "POST",
      json: { cidr: "203.0.113.77/24", app: slug, reason: "drained the pool", expires_in: "1h" },
    });
    expect(made.status, made.text).toBe(201);
    expect(made.json).toMatchObject({ cidr: "203.0.113.0/24", app: slug, reason: "drained the pool" });
    const refused = await from("203.0.113.9", slug);
    expect(refused.status).toBe(403);
    expect((await refused.json()).code).toBe("BLOCKED");
    expect((await from("203.0.114.9", slug)).status).toBe(200); // outside the network
    // Audited, and listed.
    const audit = await testDbQuery<{ action: string }[]>("SELECT action FROM audit_log WHERE target = ?", [made.json.id]);
    expect(audit.map((row) => row.action)).toEqual(["block.create"]);
    expect((await api("/api/v1/blocks")).json.blocks.map((block: { id: string }) => block.id)).toContain(made.json.id);

    expect((await api(`/api/v1/blocks/${made.json.id}`, { method: "DELETE" })).status).toBe(200);
    expect((await from("203.0.113.9", slug)).status).toBe(200);
    const after = await testDbQuery<{ action: string }[]>("SELECT action FROM audit_log WHERE target = ? ORDER BY id", [
      made.json.id,
    ]);
    expect(after.map((row) => row.action)).toEqual(["block.create", "block.delete"]);
    expect((await api(`/api/v1/blocks/${made.json.id}`, { method: "DELETE" })).status).toBe(404);
  });

  it("blocks every app with no app named, lapses at its expiry, and refuses what is not an address", async () => {
    const slug = await createApp("blocked-all", { pool_target: 2 });
    apps.push(slug);
    await waitReady(slug, 2);
    const everywhere = await api("/api/v1/blocks", { method: "POST", json: { cidr: "2001:db8:77::1/48" } });
    expect(everywhere.status, everywhere.text).toBe(201);
    expect(everywhere.json).toMatchObject({ cidr: "2001:db8:77::/48", app: null });
    expect((await from("2001:db8:77:1::5", slug)).status).toBe(403);
    // A block whose time is up (its expiry moved to the past) no longer bites, mirror or not.
    await testDbQuery("UPDATE blocks SET expires_at = NOW(3) + INTERVAL 2 SECOND WHERE id = ?", [everywhere.json.id]);
    await waitFor("the block to lapse", async () => (await from("2001:db8:77:1::5", slug)).status === 200, 20_000, 500);

    for (const cidr of ["not an address", "10.0.0.0/4", "0.0.0.0/0", "::/0", "203.0.113.1/33"]) {
      const bad = await api("/api/v1/blocks", { method: "POST", json: { cidr } });
      expect(bad.status, cidr).toBe(400);
      expect(bad.json.code).toBe("INVALID_REQUEST");
    }
    expect((await api("/api/v1/blocks", { method: "POST", json: { cidr: "203.0.113.1", expires_in: "forever" } })).status).toBe(
      400,
    );
    // A key of one app blocks for its app only, never for every app.
    const scoped = await api("/api/v1/keys", {
      method: "POST",
      json: { name: "moderator", kind: "secret", scopes: ["abuse:write", "abuse:read"], apps: [slug] },
    });
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const global = await api("/api/v1/blocks", { method: "POST", key: scoped.json.key, json: { cidr: "203.0.113.5" } });
    expect(global.status).toBe(403);
    const own = await api("/api/v1/blocks", { method: "POST", key: scoped.json.key, json: { cidr: "203.0.113.5", app: slug } });
    expect(own.status).toBe(201);
  });
});

describe("the abuse trail", () => {
  it("names the address that held an instance, from when to when, to admins only; retention removes it", async () => {
    const slug = await createApp("trail", { pool_target: 1, bot_gate: "none" });
    apps.push(slug);
    await waitReady(slug, 1);
    const got = await from("198.51.100.77", slug);
    expect(got.status).toBe(200);
    const { id } = await got.json();
    const row = await waitFor(
      "the holder in the trail",
      async () => (await api(`/api/v1/abuse/trail?instance=${id}`)).json.trail[0],
      20_000,
      250,
    );
    expect(row).toMatchObject({ instance: id, app: slug, client_ip: "198.51.100.77", ended_at: null });
    expect((await api(`/api/v1/demo/${id}`, { method: "DELETE" })).status).toBe(200);
    const ended = await waitFor(
      "the end in the trail",
      async () => {
        const entry = (await api(`/api/v1/abuse/trail?ip=198.51.100.77&app=${slug}`)).json.trail[0];
        return entry?.ended_at ? entry : null;
      },
      20_000,
      250,
    );
    expect(Date.parse(ended.ended_at)).toBeGreaterThanOrEqual(Date.parse(ended.assigned_at));
    // "Who had a demo at that moment": the assignment covers any time between its ends.
    const midway = new Date((Date.parse(ended.assigned_at) + Date.parse(ended.ended_at)) / 2).toISOString();
    expect((await api(`/api/v1/abuse/trail?app=${slug}&at=${encodeURIComponent(midway)}`)).json.trail).toHaveLength(1);
    expect((await api(`/api/v1/abuse/trail?app=${slug}&at=2000-01-01T00:00:00Z`)).json.trail).toHaveLength(0);

    // Its own scope: a key without it is refused; a key of another app sees nothing of this one.
    const reader = await api("/api/v1/keys", {
      method: "POST",
      json: { name: "no trail", kind: "secret", scopes: ["demo", "analytics:read"] },
    });
    const other = await createApp("trail-other", { pool_target: 0 });
    apps.push(other);
    const elsewhere = await api("/api/v1/keys", {
      method: "POST",
      json: { name: "other trail", kind: "secret", scopes: ["abuse:read"], apps: [other] },
    });
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect((await api(`/api/v1/abuse/trail?instance=${id}`, { key: reader.json.key })).status).toBe(403);
    expect((await api(`/api/v1/abuse/trail?app=${slug}`, { key: elsewhere.json.key })).status).toBe(404);
    expect((await api(`/api/v1/abuse/trail?instance=${id}`, { key: elsewhere.json.key })).json.trail).toEqual([]);
    expect((await api("/api/v1/abuse/trail?at=yesterday")).status).toBe(400);

    // Past ABUSE_TRAIL_DAYS the retention job removes the raw address.
    const ctx = createContext(loadConfig({ ...process.env, ...TEST_ENV, LOG_LEVEL: "silent" }), "test-abuse");
    try {
      expect(await pruneTrail(ctx, Date.now() + (ctx.config.ABUSE_TRAIL_DAYS + 1) * 86_400_000)).toBeGreaterThanOrEqual(1);
    } finally {
      await ctx.close();
    }
    const left = await testDbQuery<unknown[]>("SELECT instance FROM abuse_trail WHERE client_ip = ?", ["198.51.100.77"]);
    expect(left).toEqual([]);
  });
});
