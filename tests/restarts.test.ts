import { spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisKeys } from "../lib/store/keys";
import { createApp, redis, removeApps, throughProxy } from "./helpers";
import {
  docker,
  type Proc,
  startCaddy,
  startProcess,
  startWeb,
  startWorker,
  stopCaddy,
  TEST_API_KEY,
  TEST_PREFIX,
  waitFor,
  webAnswers,
} from "./setup/stack";

/**
 * Every dependency restarted under a running demo (ARCHITECTURE.md, "Restarts"): Redis and dockerd
 * killed with SIGKILL, Caddy and MariaDB restarted, the whole stack stopped with `npm run down` and
 * started again — the visitor's demo keeps its URL and its countdown, and no process of ours exits.
 * A test that kills a shared daemon first checks that no other deployment uses it.
 */
const PORT = 18088;
const WEB = `http://127.0.0.1:${PORT}`;
const RUN = ".data/run";
/** The scripts run as from a fresh shell: none of the test stack's settings leak into them. */
const PLAIN_ENV = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root" } as unknown as NodeJS.ProcessEnv;
const keys = redisKeys(TEST_PREFIX);
const running: Proc[] = [];
let web: Proc;
let worker: Proc;
let slug = "";
let demo: { id: string; expires_at: string; url: string };

/** Runs steps of the project's own set-up scripts (scripts/lib.sh), as `npm run up` would. */
function script(steps: string, timeoutMs = 300_000, env: Record<string, string> = {}): string {
  const result = spawnSync("bash", ["-c", `source scripts/lib.sh && load_env && ${steps}`], {
    env: { ...PLAIN_ENV, ...env },
    encoding: "utf8",
    timeout: timeoutMs,
  });
  if (result.status !== 0) throw new Error(`${steps} failed (${result.status}): ${result.stdout}\n${result.stderr}`);
  return result.stdout + result.stderr;
}

const npm = (args: string[]) => {
  const result = spawnSync("npm", args, { env: PLAIN_ENV, encoding: "utf8", timeout: 600_000 });
  if (result.status !== 0) throw new Error(`npm ${args.join(" ")} failed: ${result.stdout}\n${result.stderr}`);
  return result.stdout;
};

/** The pid our scripts recorded for a service, or null when they did not start it (then it is not ours to kill). */
function pidOf(service: string): number | null {
  const file = `${RUN}/${service}.pid`;
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, "utf8").trim());
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
  }
}

/** Key prefixes in Redis other than this test stack's own: another deployment uses this Redis. */
async function otherRedisUsers(): Promise<string[]> {
  const others = new Set<string>();
  let cursor = "0";
  do {
    const [next, found] = await redis.scan(cursor, "COUNT", 1000);
    cursor = next;
    for (const key of found) if (!key.startsWith("tintest")) others.add(key.split(":")[0]);
  } while (cursor !== "0");
  return [...others];
}

/** Containers of any other deployment (or none of ours) on this daemon. */
async function otherContainers(): Promise<number> {
  const containers = await docker.listContainers();
  return containers.filter((c) => c.Labels?.["tryitnow.deployment"] !== TEST_PREFIX).length;
}

const demoAnswer = async () => {
  const response = await fetch(`${WEB}/api/v1/demo/${demo.id}`, { headers: { "X-API-Key": TEST_API_KEY } });
  return {
    status: response.status,
    json: (await response.json().catch(() => null)) as { state?: string; expires_at?: string } | null,
  };
};

const alive = (proc: Proc) => proc.child.exitCode === null && proc.child.signalCode === null;

function logLines(name: string, message: string): number {
  return readFileSync(`.data/logs/test-${name}.log`, "utf8")
    .split("\n")
    .filter((line) => line.includes(`"msg":"${message}"`)).length;
}

beforeAll(async () => {
  web = startWeb({ PORT: String(PORT) }, "web-restarts");
  worker = startWorker("worker-restarts");
  running.push(web, worker);
  await waitFor("the web of this test", () => webAnswers(PORT), 60_000, 250);
  slug = await createApp("restarts", { pool_target: 2 });
  await waitFor("a warm pool", async () => (await redis.llen(keys.app(slug).ready)) >= 2, 60_000, 250);
  // Through this test's own web process, whose secret is then loaded (see the MariaDB test).
  const acquired = await fetch(`${WEB}/api/v1/demo/acquire`, {
    method: "POST",
    headers: { "content-type": "application/json", "X-API-Key": TEST_API_KEY },
    body: JSON.stringify({ app: slug }),
  });
  expect(acquired.status).toBe(200);
  demo = await acquired.json();
  expect((await throughProxy(demo.id, "/")).status).toBe(200);
}, 120_000);

afterAll(async () => {
  await removeApps([slug], running);
});

describe("restarts", () => {
  it("a Redis started elsewhere without its append-only file: the start warns, naming the setting, and /health says not durable", async () => {
    mkdirSync(".data/test-redis-plain", { recursive: true });
    const plain = startProcess("redis-plain", "redis-server", [
      "--port",
      "16390",
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      ".data/test-redis-plain",
    ]);
    running.push(plain);
    const env = { VALKEY_ADDR: "127.0.0.1:16390" };
    await waitFor("the plain Redis", async () => script("redis-cli -p 16390 ping", 10_000).includes("PONG"), 10_000, 200);
    expect(script("start_redis", 30_000, env)).toMatch(/runs without appendonly.*appendonly yes and appendfsync everysec/);
    const other = startWeb({ PORT: "18089", ...env }, "web-plain-redis");
    running.push(other);
    await waitFor("the web on the plain Redis", () => webAnswers(18089), 60_000, 250);
    const health = await (await fetch("http://127.0.0.1:18089/health", { headers: { "X-API-Key": TEST_API_KEY } })).json();
    expect(health).toMatchObject({ durable: false, durability: { redis_append_only: false } });
    await other.stop();
    await plain.stop();
  }, 90_000);

  it("Redis killed with SIGKILL: acquire answers 503 meanwhile; after its start the demo serves with its expiry, the pool is intact, nobody exited", async (context) => {
    const pid = pidOf("redis-server");
    const others = await otherRedisUsers();
    if (!pid || others.length) {
      console.warn(`skipped: Redis ${pid ? `is shared with ${others.join(", ")}` : "was not started by the scripts"}`);
      context.skip();
    }
    const health = await (await fetch(`${WEB}/health`, { headers: { "X-API-Key": TEST_API_KEY } })).json();
    expect(health.durable).toBe(true);
    expect(health.durability.redis_append_only).toBe(true);
    const readyBefore = await redis.lrange(keys.app(slug).ready, 0, -1);
    const linesBefore = {
      failing: logLines("worker-restarts", "redis: failing"),
      back: logLines("worker-restarts", "redis: back"),
    };
    await new Promise((resolve) => setTimeout(resolve, 1500)); // the append-only file is written every second
    process.kill(pid!, "SIGKILL");
    const refused = await fetch(`${WEB}/api/v1/demo/acquire`, {
      method: "POST",
      headers: { "content-type": "application/json", "X-API-Key": TEST_API_KEY },
      body: JSON.stringify({ app: slug }),
    });
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("5");
    expect((await refused.json()).details).toEqual({ dependency: "redis" });
    script("start_redis");
    await waitFor("the demo through the API again", async () => (await demoAnswer()).status === 200, 30_000, 250);
    const after = await demoAnswer();
    expect(after.json).toMatchObject({ state: "assigned", expires_at: demo.expires_at });
    expect((await throughProxy(demo.id, "/")).status).toBe(200);
    const readyAfter = await redis.lrange(keys.app(slug).ready, 0, -1);
    for (const id of readyBefore) expect(readyAfter).toContain(id);
    expect(alive(web) && alive(worker)).toBe(true);
    // One line when Redis went, one when it came back: not one per attempt.
    await waitFor(
      "the worker to say Redis is back",
      async () => logLines("worker-restarts", "redis: back") === linesBefore.back + 1,
      15_000,
      250,
    );
    expect(logLines("worker-restarts", "redis: failing")).toBe(linesBefore.failing + 1);
  }, 120_000);

  it("dockerd killed with SIGKILL: the demo serves while the daemon is away and after it is back", async (context) => {
    const pid = pidOf("dockerd");
    const others = await otherContainers();
    if (!pid || others) {
      console.warn(
        `skipped: dockerd ${pid ? `runs ${others} container(s) of other deployments` : "was not started by the scripts"}`,
      );
      context.skip();
    }
    process.kill(pid!, "SIGKILL");
    await waitFor(
      "dockerd to be gone",
      async () =>
        !(await docker
          .ping()
          .then(() => true)
          .catch(() => false)),
      15_000,
      100,
    );
    for (let i = 0; i < 10; i += 1) {
      expect((await throughProxy(demo.id, "/")).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    script("start_docker");
    for (let i = 0; i < 10; i += 1) {
      expect((await throughProxy(demo.id, "/")).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect((await demoAnswer()).json).toMatchObject({ state: "assigned", expires_at: demo.expires_at });
    expect(alive(web) && alive(worker)).toBe(true);
  }, 120_000);

  it("Caddy restarted: the demo's route is back within 5 s", async () => {
    await stopCaddy();
    const started = Date.now();
    startCaddy({ outlive: true });
    await waitFor(
      "the demo through the new Caddy",
      async () => (await throughProxy(demo.id, "/").catch(() => ({ status: 0 }))).status === 200,
      5000,
      100,
    );
    expect(Date.now() - started).toBeLessThan(5000);
  }, 30_000);

  it("MariaDB stopped: the apps API answers 503 with Retry-After and the dependency, acquire still 200, /health names it", async (context) => {
    const pid = pidOf("mariadbd");
    if (!pid) {
      console.warn("skipped: MariaDB was not started by the scripts");
      context.skip();
    }
    process.kill(pid!, "SIGKILL");
    await waitFor(
      "MariaDB to be gone",
      async () => {
        const response = await fetch(`${WEB}/health`, { headers: { "X-API-Key": TEST_API_KEY } });
        return (await response.json()).unavailable.includes("mariadb");
      },
      15_000,
      200,
    );
    const apps = await fetch(`${WEB}/api/v1/apps`, { headers: { "X-API-Key": TEST_API_KEY } });
    expect(apps.status).toBe(503);
    expect(apps.headers.get("retry-after")).toBe("5");
    expect((await apps.json()).details).toEqual({ dependency: "mariadb" });
    const acquired = await fetch(`${WEB}/api/v1/demo/acquire`, {
      method: "POST",
      headers: { "content-type": "application/json", "X-API-Key": TEST_API_KEY },
      body: JSON.stringify({ app: slug }),
    });
    expect(acquired.status).toBe(200);
    script("start_mariadb");
    await waitFor(
      "the apps API again",
      async () => (await fetch(`${WEB}/api/v1/apps`, { headers: { "X-API-Key": TEST_API_KEY } })).status === 200,
      30_000,
      250,
    );
    expect(alive(web) && alive(worker)).toBe(true);
  }, 120_000);

  it("`npm run down` then `npm run up`: the same demo serves with its countdown; `--purge` is what removes demos", async (context) => {
    if (await webAnswers(8080).catch(() => false)) {
      console.warn("skipped: a deployment already runs on port 8080");
      context.skip();
    }
    npm(["run", "up"]);
    const dev = "http://127.0.0.1:8080";
    const acquired = await waitFor(
      "a demo on the started stack",
      async () => {
        const response = await fetch(`${dev}/api/v1/demo/acquire`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "{}",
        });
        return response.status === 200 ? ((await response.json()) as { id: string; expires_at: string }) : null;
      },
      120_000,
      500,
    );
    const viaDevProxy = async () => (await throughProxy(acquired.id, "/", 8081)).status;
    // A Caddy the scripts just started gets the routes of demos that outlived an earlier stack within a second.
    await waitFor("the demo through the started proxy", async () => (await viaDevProxy().catch(() => 0)) === 200, 10_000, 200);
    const down = npm(["run", "down"]);
    expect(down).toContain("keeping");
    // The demos stay, and so do their egress rules (ARCHITECTURE.md, "Egress").
    expect(spawnSync("nft", ["list", "table", "inet", "tryitnow_tin_net"]).status).toBe(0);
    npm(["run", "up"]);
    // A new connection: the one kept alive from before went with the old web process.
    const again = await waitFor(
      "the demo on the restarted stack",
      async () => (await fetch(`${dev}/api/v1/demo/${acquired.id}`, { headers: { Connection: "close" } })).json(),
      10_000,
      200,
    );
    expect(again).toMatchObject({ state: "assigned", expires_at: acquired.expires_at });
    expect(again.ttl_remaining_seconds).toBeGreaterThan(0);
    await waitFor("the demo through the restarted proxy", async () => (await viaDevProxy().catch(() => 0)) === 200, 10_000, 200);
    // This stack's own demo lived through it too.
    expect((await throughProxy(demo.id, "/")).status).toBe(200);
    // Leave the services running for the other tests: stop that stack's web, worker and Caddy, purge its instances.
    const purged = script("stop_processes && purge_instances && stop_service caddy");
    expect(purged).toContain("removing");
    expect(purged).toContain("removing the egress rules");
    expect(spawnSync("nft", ["list", "table", "inet", "tryitnow_tin_net"]).status).not.toBe(0);
    expect(await redis.exists(`tin:loc:${acquired.id}`)).toBe(0);
  }, 600_000);

  it("`npm start`, a demo, Ctrl-C, the daemon stopped, then `npm run down -- --purge`: no container, route or record of the deployment is left", async (context) => {
    if (await webAnswers(8080).catch(() => false)) {
      console.warn("skipped: a deployment already runs on port 8080");
      context.skip();
    }
    const output = openSync(".data/logs/test-npm-start.log", "w");
    // A terminal's Ctrl-C goes to the whole foreground process group: npm, its shell, start.sh, the supervisor.
    const started = spawn("npm", ["start"], { env: PLAIN_ENV, detached: true, stdio: ["ignore", output, output] });
    closeSync(output);
    const exited = new Promise<number | null>((resolve) => started.once("exit", (code) => resolve(code)));
    const dev = "http://127.0.0.1:8080";
    const acquired = await waitFor(
      "a demo on `npm start`",
      async () => {
        const response = await fetch(`${dev}/api/v1/demo/acquire`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "{}",
        });
        return response.status === 200 ? ((await response.json()) as { id: string }) : null;
      },
      180_000,
      500,
    );
    await waitFor(
      "the demo through the proxy",
      async () => (await throughProxy(acquired.id, "/", 8081).catch(() => ({ status: 0 }))).status === 200,
      10_000,
      200,
    );
    process.kill(-(started.pid as number), "SIGINT");
    await exited;
    // npm may exit before its script has finished cleaning up: the script's last lines are waited for.
    const log = await waitFor(
      "start.sh's clean-up",
      async () => {
        const text = readFileSync(".data/logs/test-npm-start.log", "utf8");
        return text.includes('"msg":"supervisor stopped"') && text;
      },
      30_000,
      200,
    );
    expect(log).toContain("==> stopping");
    // What `npm start` started goes with it: here, the proxy (the other services were running before).
    await waitFor(
      "the proxy `npm start` started to be gone",
      async () =>
        !(await fetch("http://127.0.0.1:2019/config/")
          .then(() => true)
          .catch(() => false)),
      15_000,
      200,
    );
    await waitFor("the web to be gone", async () => !(await webAnswers(8080).catch(() => false)), 15_000, 200);
    // As designed, the demos outlive the stack; then the daemon is stopped too (live-restore keeps them running).
    const ours = { label: ["tryitnow.deployment=tin:"] };
    expect((await docker.listContainers({ filters: ours })).length).toBeGreaterThan(0);
    if (pidOf("dockerd")) script("stop_service dockerd");
    await waitFor(
      "dockerd to be gone",
      async () =>
        !(await docker
          .ping()
          .then(() => true)
          .catch(() => false)),
      15_000,
      100,
    );
    const purged = npm(["run", "down", "--", "--purge"]);
    expect(purged).toContain("dockerd is not running: starting it");
    expect(purged).toMatch(/removing \d+ instance container\(s\)/);
    expect(purged).toContain("nothing of this deployment is left");
    // The services back for the tests after this one (the purge stopped what the scripts had started).
    script("ensure_services");
    expect(await docker.listContainers({ all: true, filters: ours })).toEqual([]);
    let cursor = "0";
    const left: string[] = [];
    do {
      const [next, found] = await redis.scan(cursor, "MATCH", "tin:*", "COUNT", 1000);
      cursor = next;
      left.push(...found);
    } while (cursor !== "0");
    expect(left).toEqual([]);
    expect(spawnSync("nft", ["list", "table", "inet", "tryitnow_tin_net"]).status).not.toBe(0);
    // No route either: the proxy the stack started is stopped, and none answers on its admin port.
    expect(
      await fetch("http://127.0.0.1:2019/config/")
        .then(() => true)
        .catch(() => false),
    ).toBe(false);
  }, 600_000);
});
