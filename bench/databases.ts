/**
 * Demo databases (ARCHITECTURE.md, "Demo databases") on the real demo database server, with the
 * WordPress example (examples/wordpress):
 * - loading the seed into its template, once;
 * - cloning it for one instance, two ways, interleaved, 20 each: in the server (the product's
 *   `cloneDatabase`: CREATE TABLE … LIKE + INSERT … SELECT, its user and grants) against a dump
 *   piped into a new database (`mariadb-dump template | mariadb new`, the same user and grants);
 * - WordPress cold start, create → healthy → routed with its clone (the provision verb), against the
 *   same image started by hand (dockerode create + start + healthy) on an empty database, interleaved;
 * - one instance's memory and processes after its sign-in page, a sign-in and its dashboard.
 */
import { spawn } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import http from "node:http";
import Docker from "dockerode";
import { type AppSpec, initialSpec } from "../lib/app-spec";
import { mirrorApp } from "../lib/apps/mirror";
import { AppCreateInput, applyFields } from "../lib/apps/model";
import { createContext } from "../lib/context";
import { cloneDatabase } from "../lib/demo-db/clone";
import { dropInstanceDatabase } from "../lib/demo-db/drop";
import { demoDb, ident, instanceDbName } from "../lib/demo-db/server";
import { ensureTemplate } from "../lib/demo-db/template";
import { newInstanceId } from "../lib/ids";
import { removeRecord } from "../lib/pool/remove";
import { cleanupInstance } from "../lib/upkeep/cleanup";
import { provision } from "../lib/upkeep/provision";
import { waitHealthy } from "../lib/upkeep/wait-healthy";
import { benchConfig, containerMemory, percentile, report, startBenchProxy } from "./common";

const SEEDS = ".data/bench-seeds";
const config = { ...benchConfig(), SEEDS_DIR: `${process.cwd()}/${SEEDS}` };
const ctx = createContext(config, "bench");
const docker = new Docker({ socketPath: config.DOCKER_SOCKET });
const ROUNDS = 20;
const round = (ms: number) => Math.round(ms * 10) / 10;

function wordpressSpec(): AppSpec {
  const settings = JSON.parse(readFileSync("examples/wordpress/app.json", "utf8")) as Record<string, unknown>;
  const input = AppCreateInput.parse({ ...settings, slug: "bench-wp", pool_target: 1, pool_max: 5 });
  return applyFields(initialSpec(config, "bench-wp"), input);
}

const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
const row = (target: string, values: number[]) => {
  const s = sorted(values);
  return {
    target,
    n: s.length,
    "p50 ms": round(percentile(s, 50)),
    "p95 ms": round(percentile(s, 95)),
    "max ms": round(s[s.length - 1]),
  };
};

/** The alternative clone: the template dumped by mariadb-dump and piped into mariadb, then the same user and grants. */
async function dumpPipeClone(template: string, id: string): Promise<number> {
  const server = demoDb(ctx);
  const name = instanceDbName(server.prefix, id);
  const started = performance.now();
  await server.admin.query(`CREATE DATABASE ${ident(name)} CHARACTER SET utf8mb4`);
  const socket = ["--protocol=socket", `--socket=${config.DEMO_DB_SOCKET}`, "-uroot"];
  await new Promise<void>((resolve, reject) => {
    const dump = spawn("mariadb-dump", [...socket, "--single-transaction", "--skip-comments", template], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const load = spawn("mariadb", [...socket, name], { stdio: ["pipe", "ignore", "inherit"] });
    dump.stdout.pipe(load.stdin);
    load.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`mariadb exited ${code}`))));
    dump.on("error", reject);
    load.on("error", reject);
  });
  await server.admin.query("CREATE USER ?@'%' IDENTIFIED BY ? WITH MAX_USER_CONNECTIONS 20", [name, "bench-password-0123456"]);
  await server.admin.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${ident(name)}.* TO ?@'%'`, [name]);
  return performance.now() - started;
}

async function clones(spec: AppSpec) {
  const plain = { ...spec, databaseSetup: [] };
  const inServer: number[] = [];
  const piped: number[] = [];
  const template = await ensureTemplate(ctx, plain);
  for (let i = 0; i < ROUNDS; i += 1) {
    const a = newInstanceId();
    const started = performance.now();
    await cloneDatabase(ctx, plain, a, { url: "http://x.localhost", host: "x.localhost", username: "admin", password: "p" });
    inServer.push(performance.now() - started);
    await dropInstanceDatabase(ctx, a);
    const b = newInstanceId();
    piped.push(await dumpPipeClone(template.name, b));
    await dropInstanceDatabase(ctx, b);
  }
  const rows = [
    row(`in the server: CREATE TABLE … LIKE + INSERT … SELECT (${template.tables.length} tables), user, grants`, inServer),
    row("mariadb-dump template | mariadb new, user, grants", piped),
  ];
  report("a WordPress database per instance: clone time", rows, {
    tables: template.tables.length,
    seedBytes: readFileSync(`${SEEDS}/wordpress.sql`).length,
    inServer: rows[0],
    dumpPipe: rows[1],
  });
}

/** The image started by hand on an empty database: what WordPress costs without the product. */
async function byHand(spec: AppSpec, index: number, empty: { name: string; user: string; password: string }): Promise<number> {
  const server = demoDb(ctx);
  const started = performance.now();
  const container = await docker.createContainer({
    name: `tin-bench-wp-hand-${index}`,
    Image: spec.image,
    Env: [
      `WORDPRESS_DB_HOST=${server.address}:${server.port}`,
      `WORDPRESS_DB_NAME=${empty.name}`,
      `WORDPRESS_DB_USER=${empty.user}`,
      `WORDPRESS_DB_PASSWORD=${empty.password}`,
      "WORDPRESS_URL=http://by-hand.localhost",
    ],
    ExposedPorts: { "8080/tcp": {} },
    HostConfig: {
      PortBindings: { "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: "" }] },
      ReadonlyRootfs: true,
      Tmpfs: { "/run/apache2": "rw,size=1m", "/tmp": "rw,size=16m" },
    },
  });
  await container.start();
  const info = await container.inspect();
  await waitHealthy(Number(info.NetworkSettings.Ports["8080/tcp"][0].HostPort), spec.healthPath, 60_000);
  const elapsed = performance.now() - started;
  await container.remove({ force: true });
  return elapsed;
}

async function coldStarts(spec: AppSpec) {
  const server = demoDb(ctx);
  const empty = {
    name: `${server.prefix}_bench_empty`,
    user: `${server.prefix}_bench_empty`,
    password: "bench-empty-0123456789",
  };
  await server.admin.query(`DROP DATABASE IF EXISTS ${ident(empty.name)}`);
  await server.admin.query(`CREATE DATABASE ${ident(empty.name)}`);
  await server.admin.query("DROP USER IF EXISTS ?@'%'", [empty.user]);
  await server.admin.query("CREATE USER ?@'%' IDENTIFIED BY ?", [empty.user, empty.password]);
  await server.admin.query(`GRANT ALL ON ${ident(empty.name)}.* TO ?@'%'`, [empty.user]);
  const ours: number[] = [];
  const hand: number[] = [];
  const handSeeded: number[] = [];
  const cloneMs: number[] = [];
  try {
    for (let i = 0; i < 10; i += 1) {
      const started = performance.now();
      const result = await provision(ctx, spec, { workerId: "bench", target: 1 });
      ours.push(performance.now() - started);
      if (result.status !== "ready") throw new Error(`provision answered ${result.status}`);
      await removeRecord(ctx, ctx.keys.app(spec.slug), result.id, { event: "expired" });
      await cleanupInstance(ctx, result.id);
      hand.push(await byHand(spec, i, empty));
      // The same by hand on a clone of the seed (cloned before the clock starts): WordPress's own
      // first page of a real site, without the product's steps around the container.
      const id = newInstanceId();
      const clone = await cloneDatabase(ctx, spec, id, {
        url: "http://by-hand.localhost",
        host: "by-hand.localhost",
        username: "admin",
        password: "p",
      });
      handSeeded.push(
        await byHand(spec, 100 + i, {
          name: clone.env.TRYIT_DB_NAME,
          user: clone.env.TRYIT_DB_USER,
          password: clone.env.TRYIT_DB_PASSWORD,
        }),
      );
      await dropInstanceDatabase(ctx, id);
    }
    const { values } = await (await import("../lib/metrics")).metrics.databaseCloneDuration.get();
    const sum = values.find((v) => v.metricName?.endsWith("_sum"))?.value ?? 0;
    const count = values.find((v) => v.metricName?.endsWith("_count"))?.value ?? 0;
    if (count) cloneMs.push((sum / count) * 1000);
  } finally {
    await server.admin.query(`DROP DATABASE IF EXISTS ${ident(empty.name)}`);
    await server.admin.query("DROP USER IF EXISTS ?@'%'", [empty.user]);
  }
  const rows = [
    row("provision verb: clone + create → healthy (/wp-login.php) → routed → ready", ours),
    row("baseline: the same image by hand on an empty database, create + start + healthy", hand),
    row("the same image by hand on a clone of the seed (clone not timed), create + start + healthy", handSeeded),
  ];
  report("WordPress cold start", rows, {
    ours: rows[0],
    baseline: rows[1],
    byHandOnSeed: rows[2],
    ratioP50: Math.round((percentile(sorted(ours), 50) / percentile(sorted(hand), 50)) * 100) / 100,
    meanCloneMsAllProvisions: cloneMs.map(round),
  });
}

function request(port: number, host: string, path: string, options: { method?: string; body?: string; cookie?: string } = {}) {
  return new Promise<{ status: number; cookies: string[]; body: string }>((resolve, reject) => {
    const call = http.request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: options.method ?? "GET",
        headers: {
          Host: host,
          ...(options.cookie ? { Cookie: options.cookie } : {}),
          ...(options.body ? { "content-type": "application/x-www-form-urlencoded" } : {}),
        },
        timeout: 20_000,
      },
      (response) => {
        let body = "";
        response.on("data", (chunk) => (body += chunk));
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            cookies: (response.headers["set-cookie"] ?? []).map((c) => c.split(";")[0]),
            body,
          }),
        );
      },
    );
    call.on("error", reject);
    call.end(options.body);
  });
}

async function footprint(spec: AppSpec) {
  const result = await provision(ctx, spec, { workerId: "bench", target: 1 });
  if (result.status !== "ready") throw new Error(`provision answered ${result.status}`);
  const record = await ctx.redis.hgetall(ctx.keys.app(spec.slug).inst(result.id));
  const port = Number(record.host_port);
  const host = new URL(`http://${result.id}.${config.BASE_DOMAIN}:${config.PROXY_PORT}`).host;
  await request(port, host, "/");
  await request(port, host, "/wp-login.php");
  const signedIn = await request(port, host, "/wp-login.php", {
    method: "POST",
    cookie: "wordpress_test_cookie=WP%20Cookie%20check",
    body: new URLSearchParams({ log: record.cred_user, pwd: record.cred_pass, testcookie: "1" }).toString(),
  });
  const cookie = ["wordpress_test_cookie=WP%20Cookie%20check", ...signedIn.cookies].join("; ");
  const dashboard = await request(port, host, "/wp-admin/", { cookie });
  const container = `tin-${result.id}`;
  const memory = await containerMemory(docker, container);
  const stats = (await docker.getContainer(container).stats({ stream: false })) as unknown as { pids_stats: { current: number } };
  const rows = [
    {
      target: "one WordPress instance after /, the sign-in page, a sign-in and /wp-admin/",
      "signed in":
        signedIn.status === 302 && /Dashboard/.test(dashboard.body) ? "yes" : `no (${signedIn.status}, ${dashboard.status})`,
      "memory MB": Math.round((memory / 1024 / 1024) * 10) / 10,
      "limit MB": spec.memoryMb,
      processes: stats.pids_stats.current,
      "pids limit": spec.pidsLimit,
    },
  ];
  report("WordPress footprint", rows, { rows });
  await removeRecord(ctx, ctx.keys.app(spec.slug), result.id, { event: "expired" });
  await cleanupInstance(ctx, result.id);
}

async function main() {
  mkdirSync(SEEDS, { recursive: true });
  copyFileSync("examples/wordpress/seed.sql", `${SEEDS}/wordpress.sql`);
  const spec = wordpressSpec();
  const caddy = await startBenchProxy(ctx);
  try {
    await mirrorApp(ctx, spec);
    const server = demoDb(ctx);
    // The template from scratch: its load is measured once.
    const [templates] = (await server.admin.query(
      "SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?",
      [`${server.prefix}\\_t\\_%`],
    )) as unknown as [{ name: string }[]];
    for (const { name } of templates) await server.admin.query(`DROP DATABASE IF EXISTS ${ident(name)}`);
    const started = performance.now();
    const template = await ensureTemplate(ctx, spec);
    report(
      "WordPress seed into its template (once per seed version)",
      [{ target: "mariadb client, seed → template", ms: round(performance.now() - started), tables: template.tables.length }],
      {},
    );
    await clones(spec);
    await coldStarts(spec);
    await footprint(spec);
  } finally {
    await caddy.stop();
    await ctx.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
