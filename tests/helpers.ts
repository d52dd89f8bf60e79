import { randomBytes } from "node:crypto";
import http from "node:http";
import { PassThrough } from "node:stream";
import { solveChallenge } from "altcha-lib";
import { deriveKey } from "altcha-lib/algorithms/sha";
import { redisKeys } from "../lib/store/keys";
import {
  docker,
  type Proc,
  startWorker,
  TEST_API_KEY,
  TEST_CADDY_ADMIN,
  TEST_PORT,
  TEST_PREFIX,
  TEST_PROXY_PORT,
  testRedis,
  waitFor,
} from "./setup/stack";

const testKeys = redisKeys(TEST_PREFIX);

export { waitFor };
export const redis = testRedis();

export async function api(path: string, init: RequestInit & { json?: unknown; key?: string | null } = {}) {
  const headers = new Headers(init.headers);
  if (init.key !== null && !headers.has("X-API-Key")) headers.set("X-API-Key", init.key ?? TEST_API_KEY);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set("content-type", "application/json");
    body = JSON.stringify(init.json);
  }
  const response = await fetch(`http://127.0.0.1:${TEST_PORT}${path}`, { ...init, headers, body });
  const text = await response.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: response.status, headers: response.headers, json, text };
}

export const uniqueSlug = (prefix: string) => `${prefix}-${randomBytes(3).toString("hex")}`;

/** Creates an app through the API (sample image unless told otherwise). */
export async function createApp(prefix: string, fields: Record<string, unknown> = {}) {
  const slug = uniqueSlug(prefix);
  const response = await api("/api/v1/apps", {
    method: "POST",
    json: { slug, image: "tryitnow/hello:latest", health_path: "/", pool_target: 1, pool_min: 0, pool_max: 10, ...fields },
  });
  if (response.status !== 201) throw new Error(`create app failed: ${response.status} ${response.text}`);
  return slug;
}

export async function appStats(slug: string) {
  const { json } = await api("/api/v1/pool/stats");
  return json.apps.find((a: { app: string }) => a.app === slug) as
    | { ready: number; warming: number; assigned: number; target: number; capacity: number }
    | undefined;
}

export async function waitReady(slug: string, count: number, timeoutMs = 60_000) {
  return waitFor(
    `${count} ready instances of ${slug}`,
    async () => ((await appStats(slug))?.ready ?? 0) >= count,
    timeoutMs,
    200,
  );
}

/**
 * An acquire as a visitor's browser makes it: when the app's proof-of-work gate asks for a
 * solution (403 CHALLENGE_REQUIRED), a challenge is fetched and solved, as the embed does, and the
 * acquire is sent again with it. `tests/gate.test.ts` tests the gate itself with raw calls.
 */
export async function acquire(slug: string, headers: Record<string, string> = {}) {
  const first = await api("/api/v1/demo/acquire", { method: "POST", json: { app: slug }, headers });
  if (first.json?.code !== "CHALLENGE_REQUIRED") return first;
  return api("/api/v1/demo/acquire", { method: "POST", json: { app: slug, altcha: await proofFor(slug, headers) }, headers });
}

/** Fetches the app's challenge with these headers and solves it (altcha-lib's own solver): the acquire's `altcha` field. */
export async function proofFor(slug: string, headers: Record<string, string> = {}): Promise<string> {
  const issued = await api("/api/v1/demo/challenge", { method: "POST", json: { app: slug }, headers });
  if (issued.status !== 200 || !issued.json.required) throw new Error(`no challenge: ${issued.status} ${issued.text}`);
  const solution = await solveChallenge({ challenge: issued.json.challenge, deriveKey });
  if (!solution) throw new Error("challenge not solved");
  return Buffer.from(JSON.stringify({ challenge: issued.json.challenge, solution })).toString("base64");
}

/** Containers of an app on the Docker host, by label. */
export async function containersOf(slug: string) {
  return docker.listContainers({
    all: true,
    filters: { label: [`tryitnow.app=${slug}`, `tryitnow.deployment=${TEST_PREFIX}`] },
  });
}

export async function routeIds(): Promise<string[]> {
  const response = await fetch(`http://${TEST_CADDY_ADMIN}/id/tin-instances/routes`);
  if (!response.ok) return [];
  const routes = (await response.json()) as { "@id": string }[];
  return routes.map((r) => r["@id"].slice(4));
}

/** GET through the test Caddy with an instance's Host header, on a fresh connection (as a new visitor). */
export function throughProxy(id: string, path: string, port = TEST_PROXY_PORT): Promise<{ status: number; text: string }> {
  return getWithHost(port, `${id}.localhost:${port}`, path);
}

/**
 * GET of a loopback port with the Host header given, on a fresh connection. (fetch() cannot do
 * this: it sends the URL's own host whatever Host header it is handed.)
 */
export function getWithHost(port: number, host: string, path: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(
      { host: "127.0.0.1", port, path, headers: { Host: host }, timeout: 5000, agent: false },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk) => (text += chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, text }));
      },
    );
    request.on("timeout", () => request.destroy(new Error("timeout")));
    request.on("error", reject);
  });
}

export async function recordOf(slug: string, id: string) {
  return redis.hgetall(testKeys.app(slug).inst(id));
}

export async function deleteApp(slug: string) {
  return api(`/api/v1/apps/${slug}`, { method: "DELETE" });
}

/** The end of a test file: delete its apps, let a worker drain them, stop every process it started. */
export async function removeApps(apps: string[], running: Proc[] = []): Promise<void> {
  const cleaner = startWorker("worker-cleanup");
  try {
    // A dependency a test restarted may refuse the first request (503 with Retry-After): delete until
    // the app is gone, or nothing would drain and the wait below would time out saying nothing.
    for (const slug of apps) {
      await waitFor(
        `the app ${slug} to be deleted`,
        async () => [200, 404].includes((await deleteApp(slug).catch(() => ({ status: 0 }))).status),
        30_000,
        500,
      );
    }
    let left: string[] = [];
    await waitFor(
      "the file's apps to be drained",
      async () => {
        left = [];
        for (const slug of apps) for (const c of await containersOf(slug)) left.push(`${slug} ${c.Id.slice(0, 12)} ${c.State}`);
        return !left.length;
      },
      60_000,
      250,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; left: ${left.join(", ")}`);
    });
  } finally {
    await Promise.all([cleaner, ...running].map((proc) => proc.stop()));
  }
}

/**
 * Runs a command in a container. Docker's runtime occasionally fails to start an exec at all ("OCI
 * runtime exec failed … read init-p: connection reset by peer", seen once in a fresh-clone run):
 * that says nothing about the container, so such a start is tried again, up to three times.
 */
export async function execIn(
  containerId: string,
  command: string,
  timeoutMs = 20_000,
  user?: string,
): Promise<{ code: number | null; output: string }> {
  for (let attempt = 1; ; attempt += 1) {
    const result = await execOnce(containerId, command, timeoutMs, user);
    if (attempt >= 3 || !result.output.startsWith("OCI runtime exec failed")) return result;
  }
}

async function execOnce(
  containerId: string,
  command: string,
  timeoutMs: number,
  user?: string,
): Promise<{ code: number | null; output: string }> {
  const exec = await docker
    .getContainer(containerId)
    .exec({ Cmd: ["/bin/busybox", "sh", "-c", command], AttachStdout: true, AttachStderr: true, User: user });
  const stream = await exec.start({});
  const sink = new PassThrough();
  let output = "";
  sink.on("data", (chunk: Buffer) => {
    output += chunk.toString("utf8");
  });
  docker.modem.demuxStream(stream, sink, sink);
  await Promise.race([
    new Promise((resolve) => stream.on("end", resolve)),
    new Promise((resolve) => setTimeout(resolve, timeoutMs)),
  ]);
  let info = await exec.inspect();
  const deadline = Date.now() + 5000;
  while (info.Running && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    info = await exec.inspect();
  }
  return { code: info.ExitCode, output };
}
