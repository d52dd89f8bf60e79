/**
 * Churn against a running deployment — clients acquiring, extending and releasing demos (and
 * leaving some to expire) while web and worker processes are killed with SIGKILL — and the checks
 * afterwards: every container, route, published port and record has its counterpart, no demo was
 * handed out twice, and every demo a client holds serves with its expiry. Used by
 * tests/churn.test.ts (2 minutes) and bench/soak.ts (`npm run soak`, longer).
 */
import http from "node:http";
import type { Redis } from "ioredis";
import { RESTART_POLICY } from "../../lib/supervise/policy";
import { docker } from "./stack";

export interface ChurnOptions {
  /** Where the API is reached (through the proxy): `http://localhost:<port>`. */
  api: string;
  apiKey: string;
  app: string;
  durationMs: number;
  /** SIGKILLs spread evenly over the run. */
  kills: number;
  clients: number;
  pidOf: (process: string) => number | null;
  /** The supervised processes the killer chooses from. */
  processes: string[];
  /** Called every 10 s with the run's counts (the soak's progress line). */
  progress?: (counts: ChurnCounts, elapsedMs: number) => void;
}

export interface ChurnCounts {
  acquired: number;
  exhausted: number;
  released: number;
  extended: number;
  /** Requests that failed on the way (a process killed under them): the client saw the failure. */
  failed: number;
  /** The failed requests by `<verb> <status> <code>` (status 0: no answer, with what the client saw). */
  failures: Record<string, number>;
}

interface Held {
  expiresAtMs: number;
  /** Decided at acquire: a third each are released, extended (once), or left to expire. */
  fate: "release" | "extend" | "expire";
  released: boolean;
  /** A release or extend whose answer was lost: either outcome is right. */
  uncertain: boolean;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runChurn(options: ChurnOptions) {
  const held = new Map<string, Held>();
  const duplicates: string[] = [];
  const killed: string[] = [];
  const started = Date.now();
  const deadline = started + options.durationMs;
  /** Kills and failures in order, seconds into the run: what a failure followed. */
  const timeline: string[] = [];
  const at = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
  const counts: ChurnCounts = { acquired: 0, exhausted: 0, released: 0, extended: 0, failed: 0, failures: {} };
  const fail = (verb: string, answer: { status: number; json: Record<string, any> | null }) => {
    counts.failed += 1;
    const kind = `${verb} ${answer.status} ${answer.json?.code ?? answer.json?.cause ?? ""}`.trim();
    counts.failures[kind] = (counts.failures[kind] ?? 0) + 1;
    timeline.push(`${at()} ${kind}`);
  };
  const call = async (method: string, path: string, body?: unknown) => {
    try {
      const response = await fetch(`${options.api}${path}`, {
        method,
        headers: { "X-API-Key": options.apiKey, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      const json = (await response.json().catch(() => null)) as Record<string, any> | null;
      // A success whose body did not come (the web died after the proxy had passed its head on): the
      // answer is lost — the change may or may not have been made, as when no answer came at all.
      if (response.ok && json === null) return { status: 0, json: { cause: "BODY_LOST" } as Record<string, any> };
      return { status: response.status, json };
    } catch (error) {
      // What the client saw instead of an answer: a timeout, a reset, a closed socket.
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
      return { status: 0, json: { cause } as Record<string, any> };
    }
  };
  const fates = ["release", "extend", "expire"] as const;
  /** Demos with an action still to take. */
  const pending = () =>
    [...held.entries()].filter(([, demo]) => demo.fate !== "expire" && !demo.released && demo.expiresAtMs > Date.now() + 2000);

  const client = async () => {
    while (Date.now() < deadline) {
      const acquired = await call("POST", "/api/v1/demo/acquire", { app: options.app });
      if (acquired.status === 200 && acquired.json) {
        const id = acquired.json.id as string;
        if (held.has(id)) duplicates.push(id);
        held.set(id, {
          expiresAtMs: Date.parse(acquired.json.expires_at),
          fate: fates[Math.floor(Math.random() * 3)],
          released: false,
          uncertain: false,
        });
        counts.acquired += 1;
      } else if (acquired.status === 503 && acquired.json?.code === "POOL_EXHAUSTED") counts.exhausted += 1;
      else fail("acquire", acquired);
      const candidates = pending();
      const pick = Math.random() < 0.3 ? candidates[Math.floor(Math.random() * candidates.length)] : undefined;
      if (pick?.[1].fate === "release") {
        const [id, demo] = pick;
        const released = await call("DELETE", `/api/v1/demo/${id}`);
        if (released.status === 200) {
          demo.released = true;
          counts.released += 1;
        } else if (released.status !== 404) {
          demo.uncertain = true;
          fail("release", released);
        }
      } else if (pick) {
        const [id, demo] = pick;
        demo.fate = "expire"; // extended once, then left to expire
        const extended = await call("POST", `/api/v1/demo/${id}/extend`, {});
        if (extended.status === 200 && extended.json) {
          demo.expiresAtMs = Date.parse(extended.json.expires_at);
          counts.extended += 1;
        } else if (extended.status === 0 || extended.status >= 500) {
          demo.uncertain = true;
          fail("extend", extended);
        }
      }
      await pause(100 + Math.random() * 200);
    }
  };

  /**
   * When each process was last killed. A process is killed again only once its new run has lasted
   * the supervisor's stable time: killed sooner, again and again, it is a crash loop, which the
   * supervisor gives up on after RESTART_POLICY.giveUpAfter failed starts — on purpose, proved by
   * tests/supervise.test.ts. (With a kill every 11 s, six picks of the same process in a row gave
   * the worker up in one CI run.)
   */
  const lastKilled = new Map<string, number>();
  const settled = (name: string) =>
    Date.now() - (lastKilled.get(name) ?? 0) >= RESTART_POLICY.firstDelayMs + RESTART_POLICY.stableMs;
  const killer = async () => {
    const every = options.durationMs / (options.kills + 1);
    for (let kill = 1; kill <= options.kills; kill += 1) {
      await pause(Math.max(0, started + kill * every - Date.now()));
      // A process killed a moment ago may not be settled yet: the kill waits for one that is.
      for (let attempt = 0; attempt < 40; attempt += 1) {
        const ready = options.processes.filter((name) => settled(name) && isRunning(options.pidOf(name)));
        const name = ready[Math.floor(Math.random() * ready.length)];
        const pid = name ? options.pidOf(name) : null;
        if (name && pid) {
          process.kill(pid, "SIGKILL");
          killed.push(name);
          timeline.push(`${at()} killed ${name}`);
          lastKilled.set(name, Date.now());
          break;
        }
        await pause(250);
      }
    }
  };

  const ticker = setInterval(() => options.progress?.({ ...counts }, Date.now() - started), 10_000);
  await Promise.all([killer(), ...Array.from({ length: options.clients }, client)]);
  clearInterval(ticker);

  return {
    counts,
    duplicates,
    killed,
    timeline,
    /** Each demo ever handed out: still serving with its expiry (API and proxy), or ended. */
    async verify(proxyPort: number) {
      const wrong: string[] = [];
      let serving = 0;
      let ended = 0;
      /** Ended without their client releasing them: expired. */
      let expired = 0;
      for (const [id, demo] of held) {
        // A failure on the way (a process that was just killed) says nothing about the demo: asked again.
        let answer = await call("GET", `/api/v1/demo/${id}`);
        for (let attempt = 0; attempt < 5 && (answer.status === 0 || answer.status >= 502); attempt += 1) {
          await pause(500);
          answer = await call("GET", `/api/v1/demo/${id}`);
        }
        const expiring = demo.expiresAtMs <= Date.now() + 3000;
        if (answer.status === 404) {
          ended += 1;
          if (!demo.released) expired += 1;
          if (!demo.released && !demo.uncertain && !expiring)
            wrong.push(`${id}: ended before its expiry ${new Date(demo.expiresAtMs).toISOString()}`);
          continue;
        }
        if (answer.status !== 200 || answer.json?.state !== "assigned") {
          wrong.push(`${id}: ${answer.status} ${JSON.stringify(answer.json)}`);
          continue;
        }
        serving += 1;
        if (demo.released && !demo.uncertain) wrong.push(`${id}: released, yet still assigned`);
        const expiresAtMs = Date.parse(answer.json.expires_at);
        if (demo.uncertain ? expiresAtMs < demo.expiresAtMs : expiresAtMs !== demo.expiresAtMs) {
          wrong.push(`${id}: expires ${answer.json.expires_at}, the client was told ${new Date(demo.expiresAtMs).toISOString()}`);
        }
        const page = await getThroughProxy(proxyPort, `${id}.localhost:${proxyPort}`);
        if (page !== 200 && !expiring) wrong.push(`${id}: its URL answers ${page}`);
      }
      return { serving, ended, expired, wrong };
    },
  };
}

function isRunning(pid: number | null): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function getThroughProxy(port: number, host: string): Promise<number> {
  return new Promise((resolve) => {
    const request = http.get(
      { host: "127.0.0.1", port, path: "/", headers: { Host: host }, timeout: 5000, agent: false },
      (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    request.on("timeout", () => request.destroy());
    request.on("error", () => resolve(0));
  });
}

/**
 * What does not have its counterpart, in words (empty: everything matches): containers and
 * records, records and routes, containers' published ports and records' ports, the lookups, the
 * ready list and the expiry set. Warming records count as unsettled.
 */
export async function checkCounterparts(options: {
  prefix: string;
  app: string;
  caddyAdmin: string;
  redis: Redis;
}): Promise<string[]> {
  const { prefix, app, redis } = options;
  const problems: string[] = [];
  const base = `${prefix}{${app}}:`;
  const records = new Map<string, Record<string, string>>();
  let cursor = "0";
  do {
    const [next, found] = await redis.scan(cursor, "MATCH", `${base}inst:*`, "COUNT", 500);
    cursor = next;
    for (const key of found) records.set(key.slice(`${base}inst:`.length), await redis.hgetall(key));
  } while (cursor !== "0");
  const containers = await docker.listContainers({
    all: true,
    filters: { label: [`tryitnow.deployment=${prefix}`, `tryitnow.app=${app}`] },
  });
  const routes = await fetch(`http://${options.caddyAdmin}/id/tin-instances/routes`)
    .then(async (response) => ((await response.json()) as { "@id": string }[]).map((route) => route["@id"].slice(4)))
    .catch(() => null);
  if (!routes) problems.push("the proxy's instance routes could not be read");
  const ports = new Map<string, string>();
  for (const container of containers) {
    const id = container.Labels["tryitnow.instance"];
    const record = records.get(id);
    if (!record?.state) problems.push(`container ${id} has no record`);
    if (container.State !== "running") problems.push(`container ${id} is ${container.State}`);
    const port = String(container.Ports.find((entry) => entry.PublicPort)?.PublicPort ?? "");
    if (record?.host_port && port !== record.host_port)
      problems.push(`container ${id} publishes ${port || "nothing"}, its record says ${record.host_port}`);
    if (port && ports.has(port)) problems.push(`port ${port} is published by ${id} and ${ports.get(port)}`);
    if (port) ports.set(port, id);
  }
  const containerIds = new Set(containers.map((container) => container.Labels["tryitnow.instance"]));
  const ready = new Set(await redis.lrange(`${base}ready`, 0, -1));
  const assigned = new Set(await redis.zrange(`${base}expiry`, "0", "-1"));
  for (const [id, record] of records) {
    if (record.state === "warming") problems.push(`instance ${id} is still warming`);
    else if (record.state === "ready" || record.state === "assigned") {
      if (!containerIds.has(id)) problems.push(`instance ${id} (${record.state}) has no container`);
      if (routes && !routes.includes(id)) problems.push(`instance ${id} (${record.state}) has no route`);
      if (record.state === "ready" && !ready.has(id)) problems.push(`instance ${id} is ready but not on the ready list`);
      if (record.state === "assigned" && !assigned.has(id)) problems.push(`instance ${id} is assigned but not in the expiry set`);
      if ((await redis.get(`${prefix}loc:${id}`)) !== app) problems.push(`instance ${id} has no lookup`);
    } else problems.push(`instance ${id} is left in state ${record.state}`);
  }
  for (const id of routes ?? []) {
    if (records.has(id)) {
      if (!["ready", "assigned"].includes(records.get(id)?.state ?? ""))
        problems.push(`route ${id} belongs to an instance that is ${records.get(id)?.state}`);
      continue;
    }
    // Another app's instance of this deployment is not this check's; a route of nobody's is an orphan.
    const owner = await redis.get(`${prefix}loc:${id}`);
    if (!owner || owner === app || !(await redis.exists(`${prefix}{${owner}}:inst:${id}`)))
      problems.push(`route ${id} has no record`);
  }
  for (const id of ready)
    if (records.get(id)?.state !== "ready") problems.push(`ready list holds ${id}, which is ${records.get(id)?.state ?? "gone"}`);
  for (const id of assigned)
    if (records.get(id)?.state !== "assigned")
      problems.push(`expiry set holds ${id}, which is ${records.get(id)?.state ?? "gone"}`);
  return problems;
}
