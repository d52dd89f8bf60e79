import { mkdirSync, readFileSync } from "node:fs";
import http from "node:http";
import { resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { newInstanceId } from "../lib/ids";
import { CaddyRoutes } from "../lib/proxy/caddy";
import { acquire, createApp, removeApps, throughProxy, waitReady } from "./helpers";
import { type Proc, startProcess, startWorker, TEST_CADDY_ADMIN, waitFor } from "./setup/stack";

const workers: Proc[] = [];
const apps: string[] = [];
afterAll(() => removeApps(apps, workers));

/** One admin call; Caddy restarts its admin listener on a reload too, so a reset there is retried. */
async function admin(method: string, path: string, body?: unknown): Promise<number> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      const response = await fetch(`http://${TEST_CADDY_ADMIN}${path}`, {
        method,
        headers: body === undefined ? undefined : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return response.status;
    } catch (error) {
      if (attempt >= 3) throw error;
    }
  }
}

/** Adds and removes a route that serves nothing of ours: each call is one full Caddy config reload. */
async function churnRoutes(until: () => boolean): Promise<number> {
  let reloads = 0;
  for (let i = 0; !until(); i += 1) {
    const id = `tin-churn-${i}`;
    const route = { "@id": id, match: [{ host: [`churn-${i}.invalid`] }], handle: [{ handler: "static_response", body: "x" }] };
    expect(await admin("POST", "/id/tin-instances/routes", route)).toBe(200);
    // The worker's reconciler may have removed this route (no instance behind it) first: gone either way.
    expect([200, 404]).toContain(await admin("DELETE", `/id/${id}`));
    reloads += 2;
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
  return reloads;
}

describe("the proxy while routes change", () => {
  it("resets no visitor connection while Caddy reloads its config for route changes", async () => {
    const slug = await createApp("proxy", { pool_target: 1 });
    apps.push(slug);
    workers.push(startWorker("worker-proxy"));
    await waitReady(slug, 1);
    const { json: instance } = await acquire(slug);

    // Fresh connections (new visitors) all the while Caddy swaps its listening socket on each reload.
    const deadline = Date.now() + 5000;
    const churn = churnRoutes(() => Date.now() > deadline);
    const outcomes = new Map<string, number>();
    while (Date.now() < deadline) {
      const batch = await Promise.all(
        Array.from({ length: 8 }, () =>
          throughProxy(instance.id, "/cgi-bin/whoami").then(
            (response) =>
              response.status === 200 && response.text.trim() === instance.id ? "served" : `status ${response.status}`,
            (error: NodeJS.ErrnoException) => error.message,
          ),
        ),
      );
      for (const outcome of batch) outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    const reloads = await churn;
    expect(reloads).toBeGreaterThanOrEqual(20);
    const served = outcomes.get("served") ?? 0;
    expect(served).toBeGreaterThan(200);
    // Without the kernel's request migration about 1 % of these connections are reset ("read/connect
    // ECONNRESET": some 30 in a run like this one); with it, almost none. What may remain is rare:
    // Caddy 2.6 closing a connection its outgoing server had just accepted ("socket hang up", about
    // 1 in 25,000 requests) and a reset while connecting during a listener swap (seen once in six runs,
    // about 16,000 requests). At most 1 per 1,000 of the two together passes; anything else fails.
    const {
      "socket hang up": hungUp = 0,
      "connect ECONNRESET 127.0.0.1:18081": connectReset = 0,
      ...rest
    } = Object.fromEntries(outcomes);
    expect(rest).toEqual({ served });
    expect(hungUp + connectReset).toBeLessThanOrEqual(Math.max(1, Math.floor(served / 1000)));
  });

  it("two workers removing routes at once remove exactly theirs, and 40 instance ports leave Caddy one upstream series (a Caddy of its own, so no reconciler interferes)", async () => {
    mkdirSync(".data/test-caddy-routes", { recursive: true });
    const caddy = startProcess(
      "caddy-routes",
      "bash",
      [
        "-c",
        `echo '{"admin":{"listen":"127.0.0.1:12039"}}' > .data/test-caddy-routes/boot.json && exec caddy run --config .data/test-caddy-routes/boot.json`,
      ],
      { XDG_DATA_HOME: ".data/test-caddy-routes", XDG_CONFIG_HOME: ".data/test-caddy-routes" },
    );
    workers.push(caddy);
    const table = () =>
      new CaddyRoutes({
        adminUrl: "http://127.0.0.1:12039",
        baseDomain: "localhost",
        proxyPort: 18097,
        webUpstreams: ["127.0.0.1:1"],
        front: null,
        publicHost: null,
        accessLog: resolve(".data/test-caddy-routes/access.log"),
      });
    const [first, second] = [table(), table()];
    await waitFor("the route test's Caddy", async () => (await fetch("http://127.0.0.1:12039/config/")).ok, 10_000, 100);
    await first.prepare();
    const ids = Array.from({ length: 40 }, newInstanceId);
    for (const [index, id] of ids.entries()) await first.add(id, 30000 + index);
    const doomed = ids.filter((_, i) => i % 2 === 0);
    // Deleting by @id would race here: Caddy resolves an id to an array index before taking its lock.
    await Promise.all(doomed.map((id, i) => (i % 2 ? first : second).remove(id)));
    const left = (await first.list()).map((route) => route.id).sort();
    expect(left).toEqual(ids.filter((_, i) => i % 2 === 1).sort());
    expect((await first.list()).find((route) => route.id === ids[1])?.hostPort).toBe(30001);
    // Caddy 2.6.2 keeps a metric series for every upstream address it ever provisioned: the
    // instance routes share one dial address, so 40 ports left no series of their own (ARCHITECTURE.md, "Routes").
    const metrics = await (await fetch("http://127.0.0.1:12039/metrics")).text();
    const series = metrics.split("\n").filter((line) => line.startsWith("caddy_reverse_proxy_upstreams_healthy{"));
    expect(series.filter((line) => line.includes('upstream="127.0.0.1:3'))).toEqual([]);
    expect(series.filter((line) => line.includes("{http.vars.tin_port}"))).toHaveLength(1);
    await caddy.stop();
  }, 60_000);

  it("a request the proxy cannot pass on is logged by Caddy without its credentials or query (a Caddy of its own)", async () => {
    mkdirSync(".data/test-caddy-errors", { recursive: true });
    const log = ".data/logs/test-caddy-errors.log";
    const caddy = startProcess(
      "caddy-errors",
      "bash",
      [
        "-c",
        `: > ${log}; echo '{"admin":{"listen":"127.0.0.1:12038"}}' > .data/test-caddy-errors/boot.json && exec caddy run --config .data/test-caddy-errors/boot.json`,
      ],
      { XDG_DATA_HOME: ".data/test-caddy-errors", XDG_CONFIG_HOME: ".data/test-caddy-errors" },
    );
    workers.push(caddy);
    // Two web processes that are not there, and an instance whose container is gone.
    const table = new CaddyRoutes({
      adminUrl: "http://127.0.0.1:12038",
      baseDomain: "localhost",
      proxyPort: 18098,
      webUpstreams: ["127.0.0.1:1", "127.0.0.1:2"],
      front: null,
      publicHost: "localhost",
      accessLog: resolve(".data/test-caddy-errors/access.log"),
    });
    await waitFor(
      "the error test's Caddy",
      async () => (await fetch("http://127.0.0.1:12038/config/").catch(() => null))?.ok === true,
      10_000,
      100,
    );
    await table.prepare();
    const id = newInstanceId();
    await table.add(id, 1);
    const secret = `secret-${newInstanceId()}`;
    const headers = {
      "X-API-Key": secret,
      Authorization: `Bearer ${secret}`,
      Cookie: `session=${secret}`,
      "X-Instance-Token": secret,
      "content-type": "application/json",
    };
    const send = (host: string, method: string, path: string) =>
      new Promise<number>((done, fail) => {
        const request = http.request(
          { host: "127.0.0.1", port: 18098, method, path, headers: { ...headers, host } },
          (response) => {
            response.resume();
            response.on("end", () => done(response.statusCode ?? 0));
          },
        );
        request.on("error", fail);
        request.end(method === "POST" ? JSON.stringify({ app: secret }) : undefined);
      });
    // A dial that fails (502) or no process left to try (503, once the health checks ran); an
    // instance's host whose container is gone (502).
    const answers = [
      await send("localhost:18098", "POST", `/api/v1/demo/acquire?key=${secret}`),
      await send("localhost:18098", "POST", `/api/v1/demo/acquire?key=${secret}`),
      await send("localhost:18098", "GET", `/api/v1/pool/stats?key=${secret}`),
      await send(`${id}.localhost:18098`, "GET", `/account?token=${secret}`),
    ];
    for (const status of answers.slice(0, 3)) expect([502, 503]).toContain(status);
    expect(answers[3]).toBe(502);
    await waitFor("Caddy's error lines", async () => readFileSync(log, "utf8").includes('"uri":"/account'), 10_000, 200);
    const text = readFileSync(log, "utf8");
    expect(text).toContain("no upstreams available");
    expect(text).toContain('"uri":"/api/v1/demo/acquire"');
    expect(text.includes(secret), "a credential in Caddy's log").toBe(false);
    await caddy.stop();
  }, 60_000);
});
