/**
 * The egress policy, enforced by the kernel (ARCHITECTURE.md, "Egress"), from inside real instances
 * against hosts this test makes itself: a network namespace holding a private address
 * (10.254.253.2), a documentation one (198.51.100.2) with listeners on ports 80, 25 and 8080, and a
 * DNS server (10.254.253.3) the instances are given as their resolver. Every target is checked with
 * `ip route get` before anything is sent; the namespace, its routes and listeners go afterwards.
 * Also: bounded disk (writable paths are size-limited tmpfs) and capabilities that are never granted.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initialSpec } from "../lib/app-spec";
import { loadConfig } from "../lib/config";
import { createContext } from "../lib/context";
import { tableName } from "../lib/egress/policy";
import { api, containersOf, createApp, execIn, removeApps, waitFor, waitReady } from "./helpers";
import { makeNamespace, type Namespace } from "./setup/netns";
import { docker, type Proc, startWorker, TEST_ENV, TEST_PROXY_PORT, testDbQuery } from "./setup/stack";

const PRIVATE = "10.254.253.2";
const DNS = "10.254.253.3";
const PUBLIC = "198.51.100.2";
const ANSWER = "198.51.100.9";
const TABLE = tableName("tin-test-net");
/** What a connection refused by the rules (reject, admin-prohibited) looks like to busybox's wget. */
const REFUSED = /can't connect to remote host \([\d.]+\): No route to host/;

let ns: Namespace;
let worker: Proc;
const listeners: ChildProcess[] = [];
let site: string;
const apps: Record<"open" | "closed" | "listed", string> = { open: "", closed: "", listed: "" };
const extra: string[] = [];
let startedAtMs = 0;

async function containerOf(slug: string) {
  const [container] = await containersOf(slug);
  const info = await docker.getContainer(container.Id).inspect();
  return { id: container.Id, gateway: Object.values(info.NetworkSettings.Networks)[0].Gateway, env: info.Config.Env };
}

/** One GET from inside an instance (busybox wget, at most 5 s): the page, or wget's complaint. */
async function fetchFrom(containerId: string, host: string, port: number): Promise<string> {
  if (host !== (await containerGateway(containerId))) ns.assertRoutedHere(host);
  return (await execIn(containerId, `timeout 5 wget -q -O - 'http://${host}:${port}/' 2>&1 | head -c 300`)).output;
}

async function containerGateway(containerId: string): Promise<string> {
  return Object.values((await docker.getContainer(containerId).inspect()).NetworkSettings.Networks)[0].Gateway;
}

/** A name looked up through the container's own resolver (Docker's, which asks the one it was given). */
async function lookupFrom(containerId: string): Promise<string> {
  ns.assertRoutedHere(DNS);
  return (await execIn(containerId, "timeout 8 nslookup -timeout=2 -retry=1 shop.demo.test 2>&1 | head -c 1000")).output;
}

beforeAll(async () => {
  ns = makeNamespace("tin-egress", "10.254.253.1", [PRIVATE, DNS], [`${PUBLIC}/24`]);
  site = mkdtempSync(join(tmpdir(), "tin-egress-"));
  writeFileSync(join(site, "index.html"), "reached-ns\n");
  for (const address of [`${PUBLIC}:80`, `${PUBLIC}:25`, `${PUBLIC}:8080`, `${PRIVATE}:80`]) {
    listeners.push(
      spawn("ip", ["netns", "exec", ns.name, "busybox", "httpd", "-f", "-p", address, "-h", site], { stdio: "ignore" }),
    );
  }
  listeners.push(
    spawn("ip", ["netns", "exec", ns.name, process.execPath, "tests/setup/dns-responder.mjs", DNS, ANSWER], { stdio: "ignore" }),
  );
  // As on a fresh machine: the egress networks do not exist yet, so the three apps below make them
  // at the same moment (the install of one must never leave out another's network).
  for (const network of await docker.listNetworks({ filters: { label: ["tryitnow.network=tin-test-net"] } })) {
    await docker
      .getNetwork(network.Id)
      .remove()
      .catch(() => undefined);
  }
  // The instances ask the test's resolver, and the policy lets exactly that one through.
  startedAtMs = Date.now();
  worker = startWorker("worker-egress", { CONTAINER_DNS: DNS });
  apps.open = await createApp("open", { pool_target: 1, api_access: false });
  apps.closed = await createApp("closed", { pool_target: 1, egress: "none" });
  apps.listed = await createApp("listed", {
    pool_target: 1,
    egress: "allow",
    egress_allow: [`${PUBLIC}/32:80`, `${PRIVATE}:80`],
    api_access: false,
  });
  await Promise.all(Object.values(apps).map((slug) => waitReady(slug, 1)));
});

afterAll(async () => {
  await removeApps([...Object.values(apps), ...extra], [worker]);
  for (const listener of listeners) listener.kill();
  ns?.remove();
  rmSync(site, { recursive: true, force: true });
});

describe("egress: public", () => {
  it("reaches the internet (a documentation address) and resolves names through its resolver", async () => {
    const { id } = await containerOf(apps.open);
    expect(await fetchFrom(id, PUBLIC, 80)).toContain("reached-ns");
    expect(await lookupFrom(id)).toContain(ANSWER);
  });

  it("is refused private addresses, mail ports and the host (the proxy port without the API entitlement)", async () => {
    const { id, gateway, env } = await containerOf(apps.open);
    // Without the rules these answer: the private listener and port 25 are real.
    expect(spawnSync("ip", ["netns", "exec", ns.name, "busybox", "wget", "-q", "-O", "-", `http://${PUBLIC}:25/`]).status).toBe(
      0,
    );
    for (const [host, port] of [
      [PRIVATE, 80],
      [PUBLIC, 25],
      [gateway, TEST_PROXY_PORT],
    ] as const) {
      const answer = await fetchFrom(id, host, port);
      expect(answer, `${host}:${port}`).not.toContain("reached-ns");
      expect(answer, `${host}:${port}`).toMatch(REFUSED);
    }
    expect(env.some((entry) => entry.startsWith("TRYIT_API_URL="))).toBe(false);
  });
});

describe("egress: none", () => {
  it("reaches nothing and resolves nothing, but the API it is entitled to", async () => {
    const { id, gateway, env } = await containerOf(apps.closed);
    expect(await fetchFrom(id, PUBLIC, 80)).toMatch(REFUSED);
    expect(await lookupFrom(id)).not.toContain(ANSWER);
    // The one product service: the proxy on the gateway (any API path there but convert is its 404).
    expect(env).toContain(`TRYIT_API_URL=http://${gateway}:${TEST_PROXY_PORT}`);
    expect(
      (await execIn(id, `timeout 5 wget -q -S -O - 'http://${gateway}:${TEST_PROXY_PORT}/' 2>&1 | head -c 300`)).output,
    ).toMatch(/404 Not Found/);
  });
});

describe("egress: allow", () => {
  it("reaches exactly its list: not another port, not a private address even when listed, no DNS", async () => {
    const { id } = await containerOf(apps.listed);
    expect(await fetchFrom(id, PUBLIC, 80)).toContain("reached-ns");
    expect(await fetchFrom(id, PUBLIC, 8080)).toMatch(REFUSED);
    expect(await fetchFrom(id, PRIVATE, 80)).toMatch(REFUSED);
    expect(await lookupFrom(id)).not.toContain(ANSWER);
  });
});

describe("the rules", () => {
  it("are never installed without a network an earlier install had: concurrent provisions made them, none left another out", () => {
    const installs = readFileSync(".data/logs/test-worker-egress.log", "utf8")
      .split("\n")
      .filter((line) => line.includes('"egress rules installed"'))
      .map((line) => JSON.parse(line) as { time: string; networks: string[] })
      .filter((entry) => Date.parse(entry.time) >= startedAtMs);
    expect(installs.length).toBeGreaterThan(1);
    for (let index = 1; index < installs.length; index += 1) {
      const missing = installs[index - 1].networks.filter((network) => !installs[index].networks.includes(network));
      expect(missing, `install ${index} at ${installs[index].time}`).toEqual([]);
    }
    expect(installs.at(-1)?.networks.sort()).toEqual([
      "tin-test-net",
      "tin-test-net-allow",
      "tin-test-net-none-api",
      "tin-test-net-public",
    ]);
  });

  it("read as a commented policy, and come back within seconds when deleted by hand", async () => {
    const listing = spawnSync("nft", ["list", "table", "inet", TABLE], { encoding: "utf8" }).stdout;
    expect(listing).toContain("Try It Now egress policy");
    expect(listing).toContain('comment "private, loopback, link-local (metadata), CGNAT, multicast, reserved"');
    expect(spawnSync("nft", ["delete", "table", "inet", TABLE]).status).toBe(0);
    await waitFor(
      "the rules to be reinstalled",
      async () => spawnSync("nft", ["list", "table", "inet", TABLE]).status === 0,
      15_000,
      200,
    );
    // And they hold again, the instance's own entry included (its allow list).
    await waitFor(
      "the instance's allow list to be back",
      async () =>
        spawnSync("nft", ["list", "map", "inet", TABLE, "out_by_instance"], { encoding: "utf8" }).stdout.includes(
          `out_allow_${apps.listed.replace(/-/g, "_")}`,
        ),
      15_000,
      200,
    );
    const { id } = await containerOf(apps.listed);
    expect(await fetchFrom(id, PUBLIC, 80)).toContain("reached-ns");
    expect(await fetchFrom(id, PUBLIC, 8080)).toMatch(REFUSED);
  });

  it("follow a change of the app's egress on its running instance", async () => {
    const { id } = await containerOf(apps.open);
    expect(await fetchFrom(id, PUBLIC, 80)).toContain("reached-ns");
    expect((await api(`/api/v1/apps/${apps.open}`, { method: "PATCH", json: { egress: "none" } })).status).toBe(200);
    await waitFor(
      "the running instance to lose the internet",
      async () => !(await fetchFrom(id, PUBLIC, 80)).includes("reached-ns"),
      20_000,
      500,
    );
    expect((await containersOf(apps.open)).map((c) => c.Id)).toContain(id);
  });
});

describe("the rules' check", () => {
  // A deployment of its own base network, which the test's worker does not look after.
  const probe = createContext(
    loadConfig({ ...process.env, ...TEST_ENV, CONTAINER_NETWORK: "tin-probe-net", LOG_LEVEL: "silent" }),
    "test-egress-probe",
  );
  afterAll(async () => {
    await probe.egress.remove();
    await docker
      .getNetwork("tin-probe-net")
      .remove()
      .catch(() => undefined);
    await probe.close();
  });

  it("is trusted for seconds, yet fails closed: a table deleted since makes the admit fail", async () => {
    const app = { ...initialSpec(probe.config, "probe"), image: "tryitnow/hello:latest" };
    const network = await probe.egress.prepare(app);
    expect(network.name).toBe("tin-probe-net");
    const probeTable = tableName("tin-probe-net");
    expect(spawnSync("nft", ["list", "table", "inet", probeTable]).status).toBe(0);
    expect(spawnSync("nft", ["delete", "table", "inet", probeTable]).status).toBe(0);
    // Within VERIFIED_FOR_MS the kernel is not asked again; the admit that must follow refuses.
    await probe.egress.prepare(app);
    expect(spawnSync("nft", ["list", "table", "inet", probeTable]).status).not.toBe(0);
    const address = network.subnet.replace(/\.0\/\d+$/, ".77");
    await expect(probe.egress.admit(app, address)).rejects.toThrow(/nft/);
    // A full sync puts the table back, and the admit goes through.
    expect((await probe.egress.sync(null)).reinstalled).toBe(true);
    await probe.egress.admit(app, address);
    expect(spawnSync("nft", ["list", "map", "inet", probeTable, "out_by_instance"], { encoding: "utf8" }).stdout).toContain(
      address,
    );
  });
});

describe("disk and capabilities", () => {
  it("writes only to its writable paths, each bounded: writing until refused stops at the size", async () => {
    const { id } = await containerOf(apps.listed);
    const filled = (
      await execIn(id, "dd if=/dev/zero of=/tmp/fill bs=1M count=64 2>&1; ls -l /tmp/fill; rm -f /tmp/fill", 30_000, "0")
    ).output;
    expect(filled).toMatch(/No space left on device/);
    const size = Number(
      /\s(\d+)\s+\w{3}\s+\d+/.exec(
        filled.split("\n").find((line) => line.includes("/tmp/fill") && line.startsWith("-")) ?? "",
      )?.[1],
    );
    expect(size).toBeLessThanOrEqual(16 * 1024 * 1024);
    expect((await execIn(id, "echo hi > /probe 2>&1 || echo REFUSED", 10_000, "0")).output).toMatch(/Read-only file system/);
  });

  it("migration 0008 takes NET_RAW and MKNOD out of stored apps and makes every root read-only", async () => {
    const slug = await createApp("stored", { pool_target: 0, cap_add: ["CHOWN"] });
    extra.push(slug);
    // The row as an older version stored it.
    await testDbQuery("UPDATE apps SET cap_add = ?, read_only_root = 0 WHERE slug = ?", ['["NET_RAW","CHOWN","MKNOD"]', slug]);
    const updates = readFileSync("drizzle/0008_egress.sql", "utf8")
      .split("--> statement-breakpoint")
      .map((statement) => statement.trim())
      .filter((statement) => statement.startsWith("UPDATE"));
    expect(updates).toHaveLength(3);
    for (const statement of updates) await testDbQuery(statement);
    const [row] = await testDbQuery<{ cap_add: string | string[]; read_only_root: number }[]>(
      "SELECT cap_add, read_only_root FROM apps WHERE slug = ?",
      [slug],
    );
    expect(typeof row.cap_add === "string" ? JSON.parse(row.cap_add) : row.cap_add).toEqual(["CHOWN"]);
    expect(row.read_only_root).toBe(1);
  });

  it("refuses a writable root, NET_RAW and MKNOD, naming why", async () => {
    const writable = await api("/api/v1/apps", {
      method: "POST",
      json: { slug: "rw-root-x", image: "tryitnow/hello:latest", read_only_root: false },
    });
    expect(writable.status).toBe(400);
    expect(writable.text).toContain("writable_paths");
    for (const cap of ["NET_RAW", "MKNOD"]) {
      const refused = await api("/api/v1/apps", {
        method: "POST",
        json: { slug: "cap-x", image: "tryitnow/hello:latest", cap_add: [cap] },
      });
      expect(refused.status, cap).toBe(400);
    }
    const bad = await api(`/api/v1/apps/${apps.listed}`, {
      method: "PATCH",
      json: { writable_paths: ["/:10"], egress_allow: ["10.0.0.0/8"] },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.details.map((d: { path: string }) => d.path)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^writable_paths/), expect.stringMatching(/^egress_allow/)]),
    );
  });
});
