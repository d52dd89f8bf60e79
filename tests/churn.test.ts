/**
 * The product under load and under random kills (ARCHITECTURE.md, "Supervision"), on a deployment
 * of its own run by the supervisor with two web processes, every request through the proxy: a burst
 * of 1,000 concurrent acquires against a pool of 30, then two minutes of acquires, extends, releases
 * and expiries while web and worker processes are killed with SIGKILL. Afterwards containers,
 * routes, published ports and records match one to one, no demo was handed out twice, and every
 * demo a client holds still serves with its expiry. `npm run soak` runs the same churn for longer.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkCounterparts, runChurn } from "./setup/churn";
import { testRedis, waitFor } from "./setup/stack";
import { supervisedStack } from "./setup/supervised";

const PROXY_PORT = 18105;
const stack = supervisedStack({
  name: "churn",
  port: 18104,
  proxyPort: PROXY_PORT,
  caddyAdmin: "127.0.0.1:12069",
  prefix: "tinchurn:",
  network: "tin-churn-net",
  // The web host is served by the proxy too: every request of these tests goes through it.
  env: { PUBLIC_URL: `http://localhost:${PROXY_PORT}`, POOL_MAX_SIZE: "40", POOL_TARGET_SIZE: "0" },
});
const PROXIED = `http://localhost:${PROXY_PORT}`;
const redis = testRedis();

const createApp = async (fields: Record<string, unknown>) => {
  const created = await stack.api("/api/v1/apps", {
    method: "POST",
    body: JSON.stringify({ image: "tryitnow/hello:latest", health_path: "/", pool_min: 0, bot_gate: "none", ...fields }),
  });
  expect(created.status, created.text).toBe(201);
};

const readyOf = async (slug: string) =>
  ((await stack.api("/api/v1/pool/stats")).json?.apps ?? []).find((app: { app: string }) => app.app === slug)?.ready ?? 0;

beforeAll(async () => {
  await stack.start();
}, 120_000);

afterAll(async () => {
  await stack.stop();
  redis.disconnect();
});

describe("under load", () => {
  it("1,000 concurrent acquires through the proxy, two web processes, a pool of 30: 30 distinct demos, every other answer 503 POOL_EXHAUSTED", async () => {
    await createApp({ slug: "burst", pool_target: 30, pool_max: 30 });
    await waitFor("30 ready demos", async () => (await readyOf("burst")) >= 30, 120_000, 250);
    const started = performance.now();
    const answers = await Promise.all(
      Array.from({ length: 1000 }, async () => {
        const response = await fetch(`${PROXIED}/api/v1/demo/acquire`, {
          method: "POST",
          headers: { "content-type": "application/json", "X-API-Key": stack.env.API_KEY },
          body: JSON.stringify({ app: "burst" }),
        }).catch((error: Error) => ({ status: 0, json: async () => ({ code: error.message }) }));
        const body = (await response.json().catch(() => ({}))) as { id?: string; code?: string };
        return { status: response.status, id: body.id, code: body.code };
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const granted = answers.filter((answer) => answer.status === 200);
    const refused = answers.filter((answer) => answer.status === 503 && answer.code === "POOL_EXHAUSTED");
    console.info(`1,000 acquires in ${seconds.toFixed(2)} s: ${granted.length} demos, ${refused.length} POOL_EXHAUSTED`);
    expect(granted).toHaveLength(30);
    expect(new Set(granted.map((answer) => answer.id)).size).toBe(30);
    expect(refused).toHaveLength(970);
    // Each demo is assigned in Redis, to exactly the answers that named it.
    for (const answer of granted)
      expect(await redis.hget(stack.keys.app("burst").inst(answer.id as string), "state")).toBe("assigned");
    expect(await stack.api("/api/v1/apps/burst", { method: "DELETE" })).toMatchObject({ status: 200 });
  }, 240_000);
});

describe("under churn", () => {
  it("two minutes of acquires, extends, releases and expiries with 10 SIGKILLs of web and worker processes: nothing leaked, nothing twice, every held demo serving", async () => {
    await createApp({
      slug: "churn",
      pool_target: 6,
      pool_max: 16,
      default_ttl_seconds: 15,
      max_ttl_seconds: 90,
      extend_minutes: 1,
    });
    await waitFor("a warm churn pool", async () => (await readyOf("churn")) >= 6, 60_000, 250);
    const report = await runChurn({
      api: PROXIED,
      apiKey: stack.env.API_KEY,
      app: "churn",
      durationMs: 120_000,
      kills: 10,
      clients: 4,
      pidOf: stack.pidOf,
      processes: ["web-1", "web-2", "worker-1"],
    });
    console.info(`churn: ${JSON.stringify(report.counts)}; killed ${report.killed.join(", ")}`);
    console.info(`churn timeline: ${report.timeline.join("; ")}`);
    expect(report.killed).toHaveLength(10);
    expect(report.duplicates).toEqual([]);
    expect(report.counts.acquired).toBeGreaterThan(20);
    // What fails on the way is a request a killed process held or was dialled for: no answer, or
    // the proxy's 502 — or a request sent on a kept-alive connection just as Caddy closed it idle
    // (every route change reloads Caddy's whole config, which closes idle client connections; the
    // web never saw such a request, and issue 24's routes without reloads remove them). Never a 503
    // without a code (the proxy marking the live process down too).
    for (const kind of Object.keys(report.counts.failures)) expect(kind).toMatch(/^(acquire|release|extend) (0 \w+|502)$/);
    // Every process is back (the supervisor), and the deployment has settled into a consistent state.
    await waitFor("the supervised processes back", async () => (await stack.api("/health")).json?.status === "ok", 60_000, 500);
    const problems = await waitFor(
      "containers, routes, ports and records to match",
      async () => {
        const found = await checkCounterparts({ prefix: "tinchurn:", app: "churn", caddyAdmin: "127.0.0.1:12069", redis });
        return found.length === 0 ? [] : null;
      },
      60_000,
      1000,
    ).catch(async () => checkCounterparts({ prefix: "tinchurn:", app: "churn", caddyAdmin: "127.0.0.1:12069", redis }));
    expect(problems).toEqual([]);
    // Every demo a client still holds serves with the expiry it was last told; every other one is reported ended.
    const verdicts = await report.verify(PROXY_PORT);
    console.info(`afterwards: ${verdicts.serving} serving, ${verdicts.ended} ended (${verdicts.expired} by expiry)`);
    expect(verdicts.wrong).toEqual([]);
    expect(verdicts.expired).toBeGreaterThan(0);
    expect(verdicts.serving + verdicts.ended).toBe(report.counts.acquired);
  }, 400_000);
});
