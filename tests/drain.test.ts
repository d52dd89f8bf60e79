/**
 * Drain protection against the real stack (ARCHITECTURE.md, "Drain protection"): the proof-of-work
 * gate (challenges from the endpoint, solved with altcha-lib's own solver, verified and spent
 * inside the acquire), a publishable key's own drain cap, and extensions that wait for a visit.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acquire, api, createApp, proofFor, removeApps, throughProxy, waitFor, waitReady } from "./helpers";
import { type Proc, startWorker } from "./setup/stack";

const ORIGIN = "http://shop.example";
let worker: Proc;
const apps: string[] = [];

async function publishableKey(app: string, fields: Record<string, unknown> = {}) {
  const made = await api("/api/v1/keys", {
    method: "POST",
    json: { name: `embed ${app}`, kind: "publishable", apps: [app], allowed_origins: [ORIGIN], ...fields },
  });
  if (made.status !== 201) throw new Error(`key: ${made.status} ${made.text}`);
  await new Promise((resolve) => setTimeout(resolve, 1200)); // the web's key cache (KEY_CACHE_TTL=1s)
  return { "X-API-Key": made.json.key as string, Origin: ORIGIN };
}

function rawAcquire(app: string, headers: Record<string, string>, altcha?: string) {
  return api("/api/v1/demo/acquire", { method: "POST", json: altcha ? { app, altcha } : { app }, headers });
}

beforeAll(() => {
  worker = startWorker("worker-drain");
});
afterAll(() => removeApps(apps, [worker]));

describe("the proof-of-work gate", () => {
  it("asks a publishable key for a solution, takes one once, and refuses it again", async () => {
    const slug = await createApp("gate", { pool_target: 3, gate_difficulty: 20_000 });
    apps.push(slug);
    const visitor = await publishableKey(slug);
    await waitReady(slug, 3);

    const bare = await rawAcquire(slug, visitor);
    expect(bare.status).toBe(403);
    expect(bare.json.code).toBe("CHALLENGE_REQUIRED");

    const issued = await api("/api/v1/demo/challenge", { method: "POST", json: { app: slug }, headers: visitor });
    expect(issued.status).toBe(200);
    expect(issued.json.required).toBe(true);
    expect(issued.json.challenge.parameters).toMatchObject({ algorithm: "SHA-256", cost: 1, data: { app: slug } });
    // Deterministic mode: the key's signature rides along, so verifying needs no derivation.
    expect(issued.json.challenge.parameters.keySignature).toMatch(/^[0-9a-f]{64}$/);

    const answer = await proofFor(slug, visitor);
    const ok = await rawAcquire(slug, visitor, answer);
    expect(ok.status, ok.text).toBe(200);
    const replay = await rawAcquire(slug, visitor, answer);
    expect(replay.status).toBe(403);
    expect(replay.json).toMatchObject({ code: "CHALLENGE_FAILED", details: { reason: "replayed" } });

    // A forged key, another app's challenge, and garbage are refused before the pool is touched.
    const decoded = JSON.parse(Buffer.from(await proofFor(slug, visitor), "base64").toString());
    decoded.solution.derivedKey = decoded.solution.derivedKey.replace(/.$/, (c: string) => (c === "0" ? "1" : "0"));
    const forged = await rawAcquire(slug, visitor, Buffer.from(JSON.stringify(decoded)).toString("base64"));
    expect(forged.json).toMatchObject({ code: "CHALLENGE_FAILED", details: { reason: "invalid" } });
    const tampered = JSON.parse(Buffer.from(await proofFor(slug, visitor), "base64").toString());
    tampered.challenge.parameters.keyPrefix = "00";
    const retuned = await rawAcquire(slug, visitor, Buffer.from(JSON.stringify(tampered)).toString("base64"));
    expect(retuned.json).toMatchObject({ code: "CHALLENGE_FAILED", details: { reason: "invalid" } });
    for (const garbage of ["bm90IGpzb24=", "x".repeat(100)]) {
      const refused = await rawAcquire(slug, visitor, garbage);
      expect(refused.status).toBe(403);
      expect(refused.json).toMatchObject({ code: "CHALLENGE_FAILED", details: { reason: "malformed" } });
    }
    const stats = (await api("/api/v1/pool/stats")).json.apps.find((a: { app: string }) => a.app === slug);
    expect(stats.assigned).toBe(1);

    // The refusals count as their own reason, never as an empty pool.
    await waitFor(
      "the challenge refusals in the funnel",
      async () => {
        const funnel = await api(`/api/v1/analytics/funnel?app=${slug}`);
        return (funnel.json?.rejected?.challenge ?? 0) >= 5;
      },
      20_000,
      500,
    );
    const funnel = await api(`/api/v1/analytics/funnel?app=${slug}`);
    expect(funnel.json.rejected.exhausted ?? 0).toBe(0);
  });

  it("never asks a secret key, and an answer is only good for its own app", async () => {
    const slug = await createApp("gate-sk", { pool_target: 1, gate_difficulty: 5_000 });
    const other = await createApp("gate-other", { pool_target: 0, gate_difficulty: 5_000 });
    apps.push(slug, other);
    await waitReady(slug, 1);
    const issued = await api("/api/v1/demo/challenge", { method: "POST", json: { app: slug } });
    expect(issued.json).toEqual({ required: false });
    expect((await rawAcquire(slug, {})).status).toBe(200);

    const visitor = await publishableKey(other);
    const theirs = await proofFor(other, visitor);
    const mine = await publishableKey(slug);
    const crossed = await rawAcquire(slug, mine, theirs);
    expect(crossed.json).toMatchObject({ code: "CHALLENGE_FAILED", details: { reason: "other_app" } });
  });

  it("is off with bot_gate none, and on for every visitor with pow", async () => {
    const slug = await createApp("gate-off", { pool_target: 1, bot_gate: "none" });
    apps.push(slug);
    const visitor = await publishableKey(slug);
    await waitReady(slug, 1);
    expect((await api("/api/v1/demo/challenge", { method: "POST", json: { app: slug }, headers: visitor })).json).toEqual({
      required: false,
    });
    expect((await rawAcquire(slug, visitor)).status).toBe(200);
    expect((await api(`/api/v1/apps/${slug}`, { method: "PATCH", json: { bot_gate: "pow", pool_target: 2 } })).status).toBe(200);
    await waitFor("the gate on", async () => (await rawAcquire(slug, visitor)).json?.code === "CHALLENGE_REQUIRED", 10_000, 200);
    const bad = await api(`/api/v1/apps/${slug}`, { method: "PATCH", json: { bot_gate: "captcha" } });
    expect(bad.status).toBe(400);
  });

  it("issues challenges to one address at most CHALLENGE_RATE_PER_MINUTE times a minute", async () => {
    const slug = await createApp("gate-rate", { pool_target: 0 });
    apps.push(slug);
    const visitor = await publishableKey(slug);
    // Aligned to the start of a minute, so the 31 requests share one window.
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 50_000) await new Promise((resolve) => setTimeout(resolve, 60_500 - intoMinute));
    const statuses: number[] = [];
    for (let i = 0; i < 31; i += 1) {
      statuses.push((await api("/api/v1/demo/challenge", { method: "POST", json: { app: slug }, headers: visitor })).status);
    }
    expect(statuses.slice(0, 30).every((status) => status === 200)).toBe(true);
    expect(statuses[30]).toBe(429);
    // An app that does not exist is a 404, not a challenge.
    const unknown = await api("/api/v1/demo/challenge", { method: "POST", json: { app: "no-such-app" } });
    expect(unknown.status).toBe(404);
  });
});

describe("a publishable key's own cap", () => {
  it("turns its own acquires away past its rate, with the reason capped; another key of the app is not affected", async () => {
    const slug = await createApp("keycap", { pool_target: 4, bot_gate: "none" });
    apps.push(slug);
    const capped = await publishableKey(slug, { acquire_rate: 2 });
    const free = await publishableKey(slug);
    await waitReady(slug, 4);
    expect((await acquire(slug, capped)).status).toBe(200);
    expect((await acquire(slug, capped)).status).toBe(200);
    const third = await acquire(slug, capped);
    expect(third.status).toBe(503);
    expect(third.json).toMatchObject({ code: "POOL_EXHAUSTED", details: { reason: "capped", cap: "key" } });
    expect(Number(third.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await acquire(slug, free)).status).toBe(200);
    // Only a publishable key has a cap of its own.
    const secret = await api("/api/v1/keys", { method: "POST", json: { name: "sk", kind: "secret", acquire_rate: 5 } });
    expect(secret.status).toBe(400);
  });
});

describe("extensions wait for a visit", () => {
  it("refuses to extend a demo nobody opened, then extends it after a visit through the proxy", async () => {
    const slug = await createApp("visit", { pool_target: 1, bot_gate: "none" });
    apps.push(slug);
    const visitor = await publishableKey(slug);
    await waitReady(slug, 1);
    const got = await acquire(slug, visitor);
    expect(got.status).toBe(200);
    const headers = { ...visitor, "X-Instance-Token": got.json.token };
    const early = await api(`/api/v1/demo/${got.json.id}/extend`, { method: "POST", json: {}, headers });
    expect(early.status).toBe(400);
    expect(early.json).toMatchObject({ code: "NOT_VISITED", details: { reason: "not_visited" } });
    // A secret key is exempt.
    expect((await api(`/api/v1/demo/${got.json.id}/extend`, { method: "POST", json: {} })).status).toBe(200);

    expect((await throughProxy(got.json.id, "/")).status).toBe(200);
    await waitFor(
      "the extension after the visit",
      async () => (await api(`/api/v1/demo/${got.json.id}/extend`, { method: "POST", json: {}, headers })).status === 200,
      20_000,
      500,
    );
  });
});
