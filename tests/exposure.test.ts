/**
 * Closed by default at the edge (ARCHITECTURE.md, "HTTP API" and "Routes"): a stack of its own in
 * the default configuration — no API_KEY, no key yet, PUBLIC_URL pointing at its proxy — tried
 * from loopback, through the proxy, from a network namespace (a remote machine's view), from inside
 * an instance, and with the web listening on every interface.
 */

import { readdirSync, readFileSync, statSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../lib/config";
import { execIn } from "./helpers";
import { makeNamespace, type Namespace } from "./setup/netns";
import {
  docker,
  type Proc,
  resetDeployment,
  startProcess,
  startWeb,
  startWorker,
  testRedis,
  waitFor,
  webAnswers,
} from "./setup/stack";

const PORT = 18090;
const PROXY_PORT = 18091;
const WIDE_PORT = 18092;
const ADMIN = "127.0.0.1:12029";
const PREFIX = "tinopen:";
const PUBLIC = `http://localhost:${PROXY_PORT}`;
const databaseUrl = (() => {
  const url = new URL(loadConfig().DATABASE_URL);
  url.pathname = `${url.pathname}_open`;
  return process.env.OPEN_DATABASE_URL ?? url.toString();
})();

const ENV: Record<string, string> = {
  PORT: String(PORT),
  PROXY_PORT: String(PROXY_PORT),
  CADDY_ADMIN_URL: `http://${ADMIN}`,
  PROXY_ACCESS_LOG: ".data/test-caddy-open/access.log",
  VALKEY_PREFIX: PREFIX,
  DATABASE_URL: databaseUrl,
  API_KEY: "",
  PUBLIC_URL: PUBLIC,
  // A network (and so an egress table) of its own: two deployments never share one.
  CONTAINER_NETWORK: "tin-open-net",
};

interface Answer {
  status: number;
  text: string;
  headers: http.IncomingHttpHeaders;
}

/** One request on a fresh connection to a loopback port, with the Host header given. */
function send(
  port: number,
  path: string,
  options: { host?: string; method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: options.method ?? "GET",
        headers: {
          Host: options.host ?? `127.0.0.1:${port}`,
          ...(options.body ? { "content-type": "application/json" } : {}),
          ...options.headers,
        },
        timeout: 10_000,
        agent: false,
      },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk) => (text += chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, text, headers: response.headers }));
      },
    );
    request.on("timeout", () => request.destroy(new Error("timeout")));
    request.on("error", reject);
    request.end(options.body);
  });
}

const json = (answer: { text: string }) => JSON.parse(answer.text);
const direct = (path: string, options: Parameters<typeof send>[2] = {}) => send(PORT, path, options);
const viaProxy = (path: string, options: Parameters<typeof send>[2] = {}) =>
  send(PROXY_PORT, path, { host: `localhost:${PROXY_PORT}`, ...options });

/** What an attacker tries first: mint a key, read the pools, the metrics, the apps. */
const PROBES: { method: string; path: string; body?: string }[] = [
  {
    method: "POST",
    path: "/api/v1/keys",
    body: JSON.stringify({ name: "x", kind: "secret", scopes: ["apps:write", "keys:write"] }),
  },
  { method: "GET", path: "/api/v1/pool/stats" },
  { method: "GET", path: "/metrics" },
  { method: "GET", path: "/api/v1/apps" },
  { method: "GET", path: "/api/v1/apps/default" },
  { method: "GET", path: "/api/v1/jobs/dead" },
];

let caddy: Proc;
let web: Proc;
let worker: Proc;
let redis: Redis;
let ns: Namespace;
const slugs = { life: "open-life", limited: "open-limited" };

const startOpenWorker = () => startWorker("worker-open", ENV);

beforeAll(async () => {
  await resetDeployment(PREFIX, databaseUrl);
  redis = testRedis();
  caddy = startProcess(
    "caddy-open",
    "bash",
    [
      "-c",
      `mkdir -p .data/test-caddy-open && echo '{"admin":{"listen":"${ADMIN}"}}' > .data/test-caddy-open/bootstrap.json && exec caddy run --config .data/test-caddy-open/bootstrap.json`,
    ],
    { XDG_DATA_HOME: ".data/test-caddy-open", XDG_CONFIG_HOME: ".data/test-caddy-open" },
  );
  await waitFor("the open stack's Caddy", async () => (await fetch(`http://${ADMIN}/config/`)).ok, 20_000, 100);
  worker = startOpenWorker();
  web = startWeb(ENV, "web-open");
  await waitFor("the open stack's web", () => webAnswers(PORT), 60_000, 250);
  // Open only once a worker has loaded the (empty) key table: until then, unknown is not "none".
  await waitFor("the open API", async () => json(await direct("/health")).open_api === true, 30_000, 200);
  for (const [name, slug] of Object.entries(slugs)) {
    const created = await direct("/api/v1/apps", {
      method: "POST",
      body: JSON.stringify({
        slug,
        image: "tryitnow/hello:latest",
        pool_target: name === "life" ? 1 : 3,
        pool_min: 0,
        pool_max: 6,
        launch_page: true,
        rate_limit_hourly: name === "life" ? 0 : 1,
        // What is tested here is who reaches what; the proof-of-work gate has tests of its own (tests/drain.test.ts).
        bot_gate: "none",
      }),
    });
    expect(created.status, created.text).toBe(201);
  }
  await waitFor(
    "ready instances",
    async () => {
      const stats = json(await direct("/api/v1/pool/stats"));
      return (
        stats.apps.filter((app: { ready: number; target: number }) => app.ready >= app.target && app.target > 0).length === 2
      );
    },
    60_000,
    250,
  );
  ns = makeNamespace("tin-edge");
}, 180_000);

afterAll(async () => {
  ns?.remove();
  await web?.stop();
  await worker?.stop();
  await fetch(`http://${ADMIN}/stop`, { method: "POST" }).catch(() => undefined);
  await caddy?.stop();
  redis?.disconnect();
  // Nothing of this deployment stays behind (tests/restarts.test.ts kills Redis only when no other deployment uses it).
  await resetDeployment(PREFIX, databaseUrl);
});

describe("a keyless client on loopback", () => {
  it("runs the whole demo lifecycle as the README describes: acquire, get, extend, release, stats", async () => {
    const acquired = await direct("/api/v1/demo/acquire", { method: "POST", body: JSON.stringify({ app: slugs.life }) });
    expect(acquired.status, acquired.text).toBe(200);
    const instance = json(acquired);
    expect((await direct(`/api/v1/demo/${instance.id}`)).status).toBe(200);
    const extended = await direct(`/api/v1/demo/${instance.id}/extend`, { method: "POST", body: JSON.stringify({ minutes: 5 }) });
    expect(extended.status, extended.text).toBe(200);
    expect((await direct("/api/v1/pool/stats")).status).toBe(200);
    expect((await direct(`/api/v1/demo/${instance.id}`, { method: "DELETE" })).status).toBe(200);
    expect((await direct(`/api/v1/demo/${instance.id}`)).status).toBe(404);
  });

  it("that claims to be forwarded is still itself: X-Forwarded-For from a direct client is ignored", async () => {
    const limited = (forwardedFor: string) =>
      direct("/api/v1/demo/acquire", {
        method: "POST",
        body: JSON.stringify({ app: slugs.limited }),
        headers: { "X-Forwarded-For": forwardedFor },
      });
    expect((await limited("203.0.113.50")).status).toBe(200);
    // Another claimed address, the same client: the hourly limit of 1 holds.
    expect((await limited("203.0.113.51")).status).toBe(429);
  });
});

describe("the proxy", () => {
  it("answers a host that is neither an instance nor PUBLIC_URL's with a plain 404 from Caddy", async () => {
    for (const host of ["anything", "evil.example", `127.0.0.1:${PROXY_PORT}`, "localhost.evil.example"]) {
      for (const probe of PROBES) {
        const answer = await send(PROXY_PORT, probe.path, { host, method: probe.method, body: probe.body });
        expect(answer.status, `${host} ${probe.method} ${probe.path}`).toBe(404);
        expect(answer.text).toBe("Not found.\n");
        expect(answer.headers.server).toBe("Caddy");
      }
    }
  });

  it("forwards PUBLIC_URL's host to the web, where a client on this machine is not local: no key, no stats, no metrics, no app", async () => {
    for (const probe of PROBES) {
      const answer = await viaProxy(probe.path, { method: probe.method, body: probe.body });
      expect(answer.status, `${probe.method} ${probe.path}: ${answer.text}`).toBe(401);
      expect(json(answer).code).toBe("UNAUTHORIZED");
    }
    // What anonymous visitors may do still works through it.
    expect((await viaProxy("/health")).status).toBe(200);
    const page = await viaProxy(`/try/${slugs.life}`);
    expect(page.status).toBe(200);
    expect(page.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect((await viaProxy("/embed.js")).status).toBe(200);
  });

  it("gives clients in another network nothing but 404s and 401s, and its admin API not at all", () => {
    const proxy = `http://${ns.hostAddress}:${PROXY_PORT}`;
    for (const probe of PROBES) {
      for (const host of ["anything", `localhost:${PROXY_PORT}`]) {
        const answer = ns.request({
          from: ns.clientAddresses[0],
          url: `${proxy}${probe.path}`,
          method: probe.method,
          headers: { Host: host, "content-type": "application/json" },
          body: probe.body,
        });
        expect(answer.status, `${host} ${probe.method} ${probe.path}: ${answer.text}`).toBe(host === "anything" ? 404 : 401);
        expect(answer.text).not.toMatch(/tin_sk_|"apps":|tin_instances|process_cpu/);
      }
    }
    // The web and Caddy's admin API listen on loopback only: nothing answers there.
    expect(ns.request({ from: ns.clientAddresses[0], url: `http://${ns.hostAddress}:${PORT}/api/v1/pool/stats` }).status).toBe(0);
    expect(ns.request({ from: ns.clientAddresses[0], url: `http://${ns.hostAddress}:12029/config/` }).status).toBe(0);
  });

  it("gives each visitor behind it a bucket of their own; a forged X-Forwarded-For changes nothing", () => {
    const acquireFrom = (from: string, headers: Record<string, string> = {}) =>
      ns.request({
        from,
        url: `http://${ns.hostAddress}:${PROXY_PORT}/api/v1/demo/acquire`,
        method: "POST",
        headers: { Host: `localhost:${PROXY_PORT}`, Origin: PUBLIC, "content-type": "application/json", ...headers },
        body: JSON.stringify({ app: slugs.limited }),
      });
    const [first, second] = ns.clientAddresses;
    const once = acquireFrom(first);
    expect(once.status, once.text).toBe(200);
    expect(acquireFrom(first).status).toBe(429);
    expect(acquireFrom(first, { "X-Forwarded-For": "198.51.100.77" }).status).toBe(429);
    // The other address has its own hourly limit of 1 (and loopback's, used above, is its own too).
    expect(acquireFrom(second).status).toBe(200);
  });

  it("gives an instance nothing but instance pages on its network's gateway", async () => {
    // The instance released above is replaced by the worker: wait for its successor.
    const container = await waitFor(
      "a running instance of the app",
      async () =>
        (await docker.listContainers({ filters: { label: [`tryitnow.deployment=${PREFIX}`, `tryitnow.app=${slugs.life}`] } }))[0],
      30_000,
      250,
    );
    const gateway = (await docker.getContainer(container.Id).inspect()).NetworkSettings.Networks["tin-open-net"].Gateway;
    const fetchIn = async (host: string, path: string) =>
      (
        await execIn(
          container.Id,
          `wget -q -S -O - --header 'Host: ${host}' 'http://${gateway}:${PROXY_PORT}${path}' 2>&1 | head -c 2000`,
        )
      ).output;
    for (const probe of PROBES.filter((p) => p.method === "GET")) {
      expect(await fetchIn("anything", probe.path), probe.path).toMatch(/404 Not Found/);
      expect(await fetchIn(`localhost:${PROXY_PORT}`, probe.path), probe.path).toMatch(/401 Unauthorized/);
    }
    const own = container.Labels["tryitnow.instance"];
    expect(await fetchIn(`${own}.localhost:${PROXY_PORT}`, "/cgi-bin/whoami")).toContain(own);
  });
});

describe("a web listening on every interface (HOST=0.0.0.0)", () => {
  let wide: Proc;
  beforeAll(async () => {
    wide = startWeb({ ...ENV, HOST: "0.0.0.0", PORT: String(WIDE_PORT) }, "web-open-wide");
    await waitFor("the wide web", () => webAnswers(WIDE_PORT), 60_000, 250);
  });
  afterAll(() => wide?.stop());

  it("gives a client in another network no key, no stats, no metrics, no app", () => {
    for (const probe of PROBES) {
      const answer = ns.request({
        from: ns.clientAddresses[1],
        url: `http://${ns.hostAddress}:${WIDE_PORT}${probe.path}`,
        method: probe.method,
        headers: { "content-type": "application/json" },
        body: probe.body,
      });
      expect(answer.status, `${probe.method} ${probe.path}: ${answer.text}`).toBe(401);
    }
  });

  it("gives an instance not even a connection: the egress rules let it reach nothing of the host but the proxy's port", async () => {
    const [container] = await docker.listContainers({ filters: { label: [`tryitnow.deployment=${PREFIX}`] } });
    const gateway = (await docker.getContainer(container.Id).inspect()).NetworkSettings.Networks["tin-open-net"].Gateway;
    const answer = await execIn(
      container.Id,
      `wget -q -S -O - 'http://${gateway}:${WIDE_PORT}/api/v1/pool/stats' 2>&1 | head -c 500`,
    );
    expect(answer.output).toMatch(/can't connect to remote host \([\d.]+\): No route to host/);
  });

  it("still serves a client on this machine's loopback as the open API", async () => {
    expect((await send(WIDE_PORT, "/api/v1/pool/stats")).status).toBe(200);
  });
});

describe("the key table", () => {
  it("is never taken for 'no keys' when nobody loaded it: an emptied mirror answers 503 until a worker syncs it", async () => {
    const mirror = `${PREFIX}api-keys`;
    await worker.stop();
    await redis.del(mirror);
    await waitFor(
      "the web to see the empty mirror",
      async () => (await direct("/api/v1/pool/stats")).status === 503,
      10_000,
      200,
    );
    const refused = await direct("/api/v1/keys", { method: "POST", body: PROBES[0].body });
    expect(refused.status).toBe(503);
    expect(json(refused)).toMatchObject({ code: "UNAVAILABLE", details: { dependency: "key-mirror" } });
    expect(refused.headers["retry-after"]).toBeTruthy();
    worker = startOpenWorker();
    await waitFor("the open API again", async () => (await direct("/api/v1/pool/stats")).status === 200, 30_000, 200);

    // With a key in MariaDB, a flushed mirror is closed (503), and after the sync closed for good (401).
    const made = await direct("/api/v1/keys", {
      method: "POST",
      body: JSON.stringify({ name: "first", kind: "secret", scopes: ["keys:write", "demo", "metrics"] }),
    });
    expect(made.status, made.text).toBe(201);
    const key = json(made).key as string;
    expect((await direct("/api/v1/pool/stats")).status).toBe(401);
    await worker.stop();
    await redis.del(mirror);
    await waitFor(
      "the web to see the flushed mirror",
      async () => (await direct("/api/v1/pool/stats")).status === 503,
      10_000,
      200,
    );
    worker = startOpenWorker();
    await waitFor("the synced mirror", async () => (await direct("/api/v1/pool/stats")).status === 401, 30_000, 200);
    expect((await direct("/api/v1/keys", { headers: { "X-API-Key": key } })).status).toBe(200);
    // Closed: a keyless caller sees the public health (status and reasons); a key with `metrics` sees that it is closed.
    expect(json(await direct("/health")).open_api).toBeUndefined();
    expect(json(await direct("/health", { headers: { "X-API-Key": key } })).open_api).toBe(false);

    // Revoking the last key opens it again, for loopback only.
    const revoked = await direct(`/api/v1/keys/${json(made).id}`, { method: "DELETE", headers: { "X-API-Key": key } });
    expect(revoked.status, revoked.text).toBe(200);
    await waitFor(
      "the open API after the last key",
      async () => (await direct("/api/v1/pool/stats")).status === 200,
      30_000,
      200,
    );
    expect((await viaProxy("/api/v1/pool/stats")).status).toBe(401);
  });
});

describe("logs", () => {
  it("hold no credential after the embed's flow: publishable key, instance token, status stream", async () => {
    const made = await direct("/api/v1/keys", {
      method: "POST",
      body: JSON.stringify({ name: "site", kind: "publishable", apps: [slugs.life], allowed_origins: ["https://shop.example"] }),
    });
    expect(made.status, made.text).toBe(201);
    const publishable = json(made).key as string;
    await waitFor(
      "the key in the mirror",
      async () =>
        (
          await viaProxy("/api/v1/demo/acquire", {
            method: "POST",
            headers: { "X-API-Key": publishable, Origin: "https://shop.example" },
            body: JSON.stringify({ app: "no-such-app" }),
          })
        ).status === 404,
      10_000,
      200,
    ); // known (not 401); an app not of this key is the same 404 as none
    const acquired = await viaProxy("/api/v1/demo/acquire", {
      method: "POST",
      headers: { "X-API-Key": publishable, Origin: "https://shop.example" },
      body: JSON.stringify({ app: slugs.life }),
    });
    expect(acquired.status, acquired.text).toBe(200);
    const { id, token } = json(acquired) as { id: string; token: string };
    const headers = { "X-API-Key": publishable, "X-Instance-Token": token, Origin: "https://shop.example" };
    expect((await viaProxy(`/api/v1/demo/${id}`, { headers })).status).toBe(200);
    expect(
      (await direct(`/api/v1/demo/${id}?key=${publishable}&token=${token}`, { headers: { Origin: "https://shop.example" } }))
        .status,
    ).toBe(200);
    // The status stream, as EventSource calls it: credentials in the query, through the proxy and directly.
    for (const call of [viaProxy, direct]) {
      const stream = await new Promise<string>((resolve, reject) => {
        const request = http.get(
          {
            host: "127.0.0.1",
            port: call === viaProxy ? PROXY_PORT : PORT,
            path: `/api/v1/demo/${id}/status?key=${publishable}&token=${token}`,
            headers: { Host: call === viaProxy ? `localhost:${PROXY_PORT}` : "127.0.0.1" },
            agent: false,
          },
          (response) => {
            response.setEncoding("utf8");
            let seen = "";
            response.on("data", (chunk: string) => {
              seen += chunk;
              if (!seen.includes("event: ttl")) return;
              resolve(seen);
              request.destroy();
            });
          },
        );
        request.on("error", reject);
      });
      expect(stream).toContain("event: ttl");
    }
    // The instance's own pages, reached with credentials a visitor's browser might carry.
    const page = await send(PROXY_PORT, `/?token=${token}&key=${publishable}`, {
      host: `${id}.localhost:${PROXY_PORT}`,
      headers: {
        "X-Instance-Token": token,
        "X-API-Key": publishable,
        Cookie: `session=${token}`,
        Authorization: `Bearer ${publishable}`,
      },
    });
    expect(page.status).toBe(200);
    expect((await viaProxy(`/api/v1/nope?key=${publishable}&token=${token}`)).status).toBe(404);

    // Every log file under .data/: the instance's request is there, without its query; no credential anywhere.
    const accessLog = ".data/test-caddy-open/access.log";
    await waitFor(
      "the instance's request in Caddy's log",
      async () => readFileSync(accessLog, "utf8").includes(`"host":"${id}.localhost:${PROXY_PORT}"`),
      10_000,
      200,
    );
    await new Promise((resolve) => setTimeout(resolve, 1500)); // the loggers' buffers
    const files = logFiles(".data");
    expect(files).toContain(accessLog);
    expect(files.some((file) => file.includes("test-web-open.log"))).toBe(true);
    for (const file of files) {
      const text = readFileSync(file, "utf8");
      expect(text.includes(publishable), `publishable key in ${file}`).toBe(false);
      expect(text.includes(token), `instance token in ${file}`).toBe(false);
    }
    const lines = readFileSync(accessLog, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { request: { host: string; uri: string } });
    const visits = lines.filter((l) => l.request.host === `${id}.localhost:${PROXY_PORT}`).map((l) => l.request.uri);
    expect(visits).toContain("/");
    for (const l of lines) expect(l.request.uri, "no query in the access log").not.toContain("?");
    // Only instance hosts are logged: the web's and the unknown hosts' requests are not.
    for (const l of lines) expect(l.request.host).toMatch(/^[a-z2-7]{20}\.localhost:/);
  });
});

/** Every log file below a folder: `*.log` and Caddy's access logs with their rotations. */
function logFiles(root: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(root)) {
    const path = join(root, entry);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat) continue;
    if (stat.isDirectory()) {
      if (!["docker", "mariadb", "redis", "nats", "build"].includes(entry)) found.push(...logFiles(path));
    } else if (/\.log$|access.*\.log/.test(entry)) found.push(path);
  }
  return found;
}
