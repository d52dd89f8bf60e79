/**
 * Supervision (ARCHITECTURE.md, "Supervision"), on a deployment of its own run by the real
 * supervisor (scripts/supervise.ts) with two web processes behind its own Caddy: processes killed
 * with SIGKILL come back, a web's death loses no request the client did not see fail, status
 * streams reconnect and their cap holds, frozen workers make /health degraded and then down, and a
 * process that fails at every start is given up on and reported.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import http from "node:http";
import { hostname } from "node:os";
import { EventSource } from "eventsource";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resetDeployment, startProcess, testRedis, waitFor } from "./setup/stack";
import { SUPERVISED_API_KEY, supervisedDatabaseUrl, supervisedStack } from "./setup/supervised";

const stack = supervisedStack({
  name: "supervise",
  port: 18100,
  proxyPort: 18101,
  caddyAdmin: "127.0.0.1:12059",
  prefix: "tinsup:",
  network: "tin-sup-net",
  env: { WORKER_DOWN_AFTER: "10s", POOL_TARGET_SIZE: "2", SSE_MAX_PER_IP: "3" },
});
const { data: DATA, web: WEB, keys, env: ENV, supervise, api } = stack;
const API_KEY = SUPERVISED_API_KEY;
const pidOf = (name: string) => stack.pidOf(name);
const redis = testRedis();

const health = async () =>
  (await api("/health")).json as { status: string; reasons: { code: string; message: string }[]; workers: { live: boolean }[] };
const ready = async () =>
  ((await api("/api/v1/pool/stats")).json?.apps ?? []).find((app: { app: string }) => app.app === "default")?.ready ?? 0;
const acquire = (app = "default") => api("/api/v1/demo/acquire", { method: "POST", body: JSON.stringify({ app }) });

/** GET of a web process's own socket, past the proxy: is that process itself answering? */
function viaSocket(socketPath: string, path: string): Promise<number> {
  return new Promise((resolve) => {
    const request = http.get({ socketPath, path, timeout: 2000 }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on("timeout", () => request.destroy());
    request.on("error", () => resolve(0));
  });
}

/**
 * Processes with a connection to the Docker daemon's socket, by pid (from `ss`: the daemon's end
 * names the socket file, the client's end is its peer).
 */
function dockerClients(): Map<number, number> {
  const lines = spawnSync("ss", ["-xpn"], { encoding: "utf8" }).stdout.split("\n");
  const peers = new Set<string>();
  for (const line of lines) {
    const fields = line.trim().split(/\s+/);
    if (fields[4]?.endsWith("docker.sock")) peers.add(fields[7]);
  }
  const clients = new Map<number, number>();
  for (const line of lines) {
    const fields = line.trim().split(/\s+/);
    if (!peers.has(fields[5])) continue;
    for (const match of line.matchAll(/pid=(\d+)/g)) clients.set(Number(match[1]), (clients.get(Number(match[1])) ?? 0) + 1);
  }
  return clients;
}

beforeAll(async () => {
  await stack.start();
  await waitFor("the default app's pool", async () => (await ready()) >= 2, 60_000, 250);
});

afterAll(async () => {
  await stack.stop();
  redis.disconnect();
});

describe("supervised processes", () => {
  it("two web processes serve HOST:PORT through the proxy, each on its own sockets; /metrics merges both", async () => {
    const [one, two] = [pidOf("web-1"), pidOf("web-2")];
    expect(one && two && one !== two).toBe(true);
    expect(existsSync(`${DATA}/sockets/web-1-direct.sock`) && existsSync(`${DATA}/sockets/web-2.sock`)).toBe(true);
    // Requests go to both processes (least connections): the streams' gauges and request counts come from each.
    const text = await waitFor(
      "both web processes in /metrics",
      async () => {
        const body = await (await fetch(`${WEB}/metrics`, { headers: { "X-API-Key": API_KEY } })).text();
        return /tin_web_processes 2\b/.test(body) && body;
      },
      20_000,
      500,
    );
    expect(Number(text.match(/tin_process_starts\{process="web"\} (\d+)/)?.[1])).toBeGreaterThanOrEqual(2);
    expect(Number(text.match(/tin_process_starts\{process="worker"\} (\d+)/)?.[1])).toBeGreaterThanOrEqual(1);
    // The public /health shows status and reasons only; the key with `metrics` sees the detail.
    const open = await (await fetch(`${WEB}/health`)).json();
    expect(Object.keys(open).sort()).toEqual(["reasons", "status"]);
    const detail = (await api("/health")).json;
    expect(detail.workers.filter((worker: { live: boolean }) => worker.live)).toHaveLength(1);
    expect(detail.checks.docker).toMatchObject({ ok: true });
  });

  it("the web processes hold no connection to the Docker socket: the worker reports the runtime's health", async () => {
    // The check can see a connection: the worker's (it asks the daemon every 2 s).
    const worker = pidOf("worker-1") as number;
    await waitFor(
      "the worker's connection to the Docker socket, seen by ss",
      async () => (dockerClients().get(worker) ?? 0) > 0,
      15_000,
      50,
    );
    for (let i = 0; i < 20; i += 1) {
      await api("/health");
      const clients = dockerClients();
      expect(clients.get(pidOf("web-1") as number) ?? 0).toBe(0);
      expect(clients.get(pidOf("web-2") as number) ?? 0).toBe(0);
    }
  });

  it("the worker killed with SIGKILL: a new one within seconds, and the pool is refilled", async () => {
    for (let i = 0; i < 2; i += 1) expect((await acquire()).status).toBe(200);
    const before = pidOf("worker-1");
    const starts = Number(await redis.hget(keys.starts, "worker"));
    process.kill(before as number, "SIGKILL");
    const after = await waitFor("a new worker", async () => pidOf("worker-1") !== before && pidOf("worker-1"), 10_000, 100);
    expect(after).not.toBe(before);
    await waitFor("the pool refilled by the new worker", async () => (await ready()) >= 2, 60_000, 250);
    expect(Number(await redis.hget(keys.starts, "worker"))).toBe(starts + 1);
  });

  it("a web process killed with SIGKILL: every request is answered by the other meanwhile, and it comes back", async () => {
    const before = pidOf("web-1");
    let stop = false;
    const statuses: number[] = [];
    const load = (async () => {
      while (!stop) statuses.push((await api("/api/v1/pool/stats").catch(() => ({ status: 0 }))).status);
    })();
    await new Promise((resolve) => setTimeout(resolve, 500));
    process.kill(before as number, "SIGKILL");
    const after = await waitFor("web-1 started again", async () => pidOf("web-1") !== before && pidOf("web-1"), 10_000, 100);
    await waitFor(
      "web-1 answering on its own socket",
      async () => (await viaSocket(`${DATA}/sockets/web-1.sock`, "/health/live")) === 200,
      20_000,
      200,
    );
    await new Promise((resolve) => setTimeout(resolve, 1500));
    stop = true;
    await load;
    expect(after).not.toBe(before);
    expect(statuses.length).toBeGreaterThan(20);
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
  });

  it("killing a web process under acquire load: every 200 is a distinct assigned demo, every other answer a visible failure", async () => {
    const created = await api("/api/v1/apps", {
      method: "POST",
      body: JSON.stringify({
        slug: "burst",
        image: "tryitnow/hello:latest",
        health_path: "/",
        pool_target: 8,
        pool_min: 0,
        pool_max: 10,
        bot_gate: "none",
      }),
    });
    expect(created.status).toBe(201);
    await waitFor(
      "the burst app's pool",
      async () =>
        ((await api("/api/v1/pool/stats")).json.apps.find((app: { app: string }) => app.app === "burst")?.ready ?? 0) >= 8,
      90_000,
      250,
    );
    const victim = pidOf("web-2") as number;
    const answers: { status: number; id?: string; code?: string }[] = [];
    const burst = Array.from({ length: 40 }, (_, index) =>
      (async () => {
        await new Promise((resolve) => setTimeout(resolve, index * 15));
        const response = await acquire("burst").catch(() => ({ status: 0, json: null }));
        answers.push({ status: response.status, id: response.json?.id, code: response.json?.code });
      })(),
    );
    setTimeout(() => process.kill(victim, "SIGKILL"), 100);
    await Promise.all(burst);
    const tally = new Map<string, number>();
    for (const answer of answers)
      tally.set(
        `${answer.status} ${answer.code ?? ""}`.trim(),
        (tally.get(`${answer.status} ${answer.code ?? ""}`.trim()) ?? 0) + 1,
      );
    console.info(`acquires while web-2 was killed: ${[...tally].map(([key, count]) => `${key}: ${count}`).join(", ")}`);
    const granted = answers.filter((answer) => answer.status === 200);
    expect(new Set(granted.map((answer) => answer.id)).size).toBe(granted.length);
    for (const answer of granted) {
      const record = await redis.hgetall(keys.app("burst").inst(answer.id as string));
      expect(record.state).toBe("assigned");
    }
    // Every demo handed out was seen by its client: none is assigned that no 200 named (an acquire lost on the way would be).
    const assigned = await redis.zrange(keys.app("burst").expiry, "0", "-1");
    const lost = assigned.filter((id) => !granted.some((answer) => answer.id === id));
    expect(lost.length).toBeLessThanOrEqual(answers.filter((answer) => answer.status === 502).length);
    expect(granted.length).toBeGreaterThan(0);
    // Nothing else than demos, exhausted pools and the proxy's own failure of a request it could not place.
    for (const answer of answers.filter((answer) => answer.status !== 200)) expect([503, 502]).toContain(answer.status);
    await waitFor("web-2 back", async () => pidOf("web-2") !== victim && (await health()).status === "ok", 20_000, 200);
  });
});

describe("status streams across web processes", () => {
  it("a stream whose process died reconnects to a live one, and the per-client cap is right afterwards", async () => {
    await waitFor("a ready demo", async () => (await ready()) >= 1, 60_000, 250);
    const demo = (await acquire()).json as { id: string };
    const ttls: string[] = [];
    const source = new EventSource(`${WEB}/api/v1/demo/${demo.id}/status`, {
      fetch: (input, init) => fetch(input, { ...init, headers: { ...init?.headers, "X-API-Key": API_KEY } }),
    });
    source.addEventListener("ttl", (event) => ttls.push(event.data));
    try {
      await waitFor("the first countdown event", async () => ttls.length > 0, 10_000, 50);
      const countsKey = keys.streams("127.0.0.1");
      const [owner] = Object.keys(await redis.hgetall(countsKey));
      const pid = Number(owner.slice(`web-${hostname()}-`.length));
      expect([pidOf("web-1"), pidOf("web-2")]).toContain(pid);
      process.kill(pid, "SIGKILL");
      const seen = ttls.length;
      await waitFor("countdown events from the other process", async () => ttls.length > seen + 1, 15_000, 100);
      // Counted once, under the live process (the dead one's count may stay until a claim is refused).
      const counts = Object.entries(await redis.hgetall(countsKey)).filter(([process]) => process !== owner);
      expect(counts.map(([, count]) => count)).toEqual(["1"]);
      // The dead process's count does not count: SSE_MAX_PER_IP (3) - 1 more streams open, the next is refused.
      const more: AbortController[] = [];
      const open = async () => {
        const abort = new AbortController();
        more.push(abort);
        return (await fetch(`${WEB}/api/v1/demo/${demo.id}/status`, { headers: { "X-API-Key": API_KEY }, signal: abort.signal }))
          .status;
      };
      try {
        expect([await open(), await open()]).toEqual([200, 200]);
        expect(await open()).toBe(429);
      } finally {
        for (const abort of more) abort.abort();
      }
    } finally {
      source.close();
    }
  });
});

describe("a health that tells the truth", () => {
  it("an app whose provisions fail: degraded, naming the app, while its replenish backs off", async () => {
    const created = await api("/api/v1/apps", {
      method: "POST",
      body: JSON.stringify({
        slug: "broken",
        image: "tryitnow/no-such-image:latest",
        health_path: "/",
        pool_target: 1,
        pool_min: 0,
        pool_max: 2,
      }),
    });
    expect(created.status).toBe(201);
    const report = await waitFor(
      "the back-off in /health",
      async () => {
        const current = await health();
        return current.reasons.some((reason) => reason.code === "BACKOFF") && current;
      },
      30_000,
      250,
    );
    expect(report.status).toBe("degraded");
    expect(report.reasons.find((reason) => reason.code === "BACKOFF")?.message).toContain("broken");
    expect((await api("/api/v1/apps/broken", { method: "DELETE" })).status).toBe(200);
    await waitFor("ok again once the app is gone", async () => (await health()).status === "ok", 30_000, 250);
  });

  it("a worker whose replenish loop hangs: degraded, naming the loop and the worker", async () => {
    const stalled = startProcess(
      "worker-stalled",
      process.execPath,
      ["--import", "tsx", "--import", "./tests/setup/stall-replenish.ts", "worker/index.ts"],
      ENV,
    );
    try {
      const report = await waitFor(
        "the stalled loop in /health",
        async () => {
          const current = await health();
          return current.reasons.some((reason) => reason.code === "LOOP_STALLED") && current;
        },
        40_000,
        250,
      );
      expect(report.status).toBe("degraded");
      const reason = report.reasons.find((entry) => entry.code === "LOOP_STALLED")?.message ?? "";
      expect(reason).toMatch(new RegExp(`^loop replenish of worker ${hostname()}-${stalled.child.pid}-`));
      // The healthy worker's loops are not named.
      expect(report.reasons.filter((entry) => entry.code === "LOOP_STALLED")).toHaveLength(1);
    } finally {
      await stalled.stop("SIGKILL");
    }
  });

  it("a flood of /health is answered from the cache: it does not reach MariaDB per request", async () => {
    const selects = () => {
      const out = spawnSync(
        "bash",
        ["-c", "source scripts/lib.sh >/dev/null && load_env && mariadb_root -N -e \"SHOW GLOBAL STATUS LIKE 'Com_select'\""],
        { encoding: "utf8" },
      ).stdout;
      return Number(out.trim().split(/\s+/)[1]);
    };
    const before = selects();
    const statuses: number[] = [];
    for (let round = 0; round < 10; round += 1) {
      statuses.push(...(await Promise.all(Array.from({ length: 50 }, async () => (await fetch(`${WEB}/health`)).status))));
    }
    const spent = selects() - before;
    console.info(`500 /health requests: ${spent} SELECTs on MariaDB (every process included)`);
    expect(statuses.every((status) => status === 200)).toBe(true);
    // Each web process evaluates at most once per HEALTH_CACHE (1 s); the worker's own syncs add a few.
    expect(spent).toBeLessThan(100);
  });

  it("every worker frozen with SIGSTOP: degraded with the reason within a minute, then down (503); SIGCONT: ok", async () => {
    const worker = pidOf("worker-1") as number;
    process.kill(worker, "SIGSTOP");
    try {
      const started = Date.now();
      const degraded = await waitFor(
        "degraded: no live worker",
        async () => {
          const current = await health();
          return current.reasons.some((reason) => reason.code === "NO_WORKER") && current;
        },
        60_000,
        250,
      );
      expect(degraded.status).toBe("degraded");
      expect(Date.now() - started).toBeLessThan(60_000);
      const down = await waitFor(
        "down",
        async () => {
          const response = await fetch(`${WEB}/health`);
          const body = await response.json();
          return response.status === 503 && body.status === "down" && body;
        },
        30_000,
        250,
      );
      expect(down.reasons[0].code).toBe("WORKER_DOWN");
      // The web processes still serve: the dashboard and the API say why, a load balancer stops sending visitors.
      expect((await api("/api/v1/pool/stats")).status).toBe(200);
    } finally {
      process.kill(worker, "SIGCONT");
    }
    await waitFor("ok after SIGCONT", async () => (await health()).status === "ok", 30_000, 250);
    expect(pidOf("worker-1")).toBe(worker);
  });

  it("a process that exits at once on every start is given up on: a log line, /health, and the exit of an `npm start` supervisor", async () => {
    const env = {
      ...ENV,
      PORT: "18102",
      PUBLIC_URL: "http://localhost:18102",
      WEB_PROCESSES: "1",
      WEB_PROXY_SOCKET: `${DATA}/sockets/crash.sock`,
      VALKEY_PREFIX: "tinsupcrash:",
    };
    const detached = supervise("crashing", env, ["--worker-command", "echo 'worker: cannot start' >&2; exit 3"]);
    const foreground = supervise(
      "crashing-fg",
      { ...env, PORT: "18103", PUBLIC_URL: "http://localhost:18103", WEB_PROXY_SOCKET: `${DATA}/sockets/crash-fg.sock` },
      ["--worker-command", "exit 3", "--exit-on-give-up"],
    );
    try {
      const reported = await waitFor(
        "the give-up in /health",
        async () => {
          const body = await (await fetch("http://127.0.0.1:18102/health")).json();
          return body.reasons?.some((reason: { code: string }) => reason.code === "GIVEN_UP") && body;
        },
        60_000,
        500,
      );
      expect(reported.status).toBe("degraded");
      expect(reported.reasons.find((reason: { code: string }) => reason.code === "GIVEN_UP").message).toContain("worker-1");
      // The supervisor's log is written asynchronously: the line may land a moment after /health shows the give-up.
      const log = await waitFor(
        "the give-up's log line",
        async () => {
          const text = readFileSync(".data/logs/test-crashing.log", "utf8");
          return text.includes("given up") && text;
        },
        5_000,
        100,
      );
      expect(log).toMatch(/worker-1 failed 5 starts in a row \(last: exit code 3\): given up/);
      expect(readFileSync(`${DATA}/logs-crashing/worker.log`, "utf8")).toContain("worker: cannot start");
      // The web it supervises runs on: it was never given up on.
      expect((await fetch("http://127.0.0.1:18102/health")).status).toBe(200);
      expect(await foreground.exited).toBe(1);
    } finally {
      await Promise.all([detached.stop(), foreground.stop()]);
      await resetDeployment("tinsupcrash:", supervisedDatabaseUrl);
    }
  });
});
