/**
 * Demo databases (ARCHITECTURE.md, "Demo databases") on the real demo database server the scripts
 * start: a database and a user per instance cloned from the seed's template, made at provision and
 * handed over in the container's environment, with the visitor's sign-in in acquire's answer;
 * nothing shared between two instances; dropped at release and by the reconciler; reachable only
 * by instances of apps with a database; a broken seed fails the app's provisions with its reason and
 * starts no container.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import mysql from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../lib/config";
import { demoDbEndpoint, namePrefix } from "../lib/demo-db/server";
import { acquire, api, appStats, containersOf, createApp, execIn, removeApps, waitFor, waitReady } from "./helpers";
import { docker, type Proc, startWorker, TEST_ENV, TEST_PREFIX } from "./setup/stack";

const config = loadConfig({ ...process.env, ...TEST_ENV });
const endpoint = demoDbEndpoint(config);
const prefix = namePrefix(TEST_PREFIX);
const SEED = `CREATE TABLE notes (id INT PRIMARY KEY AUTO_INCREMENT, body VARCHAR(200) NOT NULL);
INSERT INTO notes (body) VALUES ('seeded note');
CREATE TABLE site (url VARCHAR(300), admin_hash CHAR(32));
INSERT INTO site VALUES ('http://template.invalid', '');
`;

let worker: Proc;
const apps: string[] = [];
let withDb = "";
let without = "";

async function admin<T>(sql: string, params: unknown[] = []): Promise<T> {
  const connection = await mysql.createConnection({ socketPath: config.DEMO_DB_SOCKET, user: "root" });
  try {
    return (await connection.query(sql, params))[0] as T;
  } finally {
    await connection.end();
  }
}

async function envOf(id: string): Promise<Record<string, string>> {
  const info = await docker.getContainer(`tin-${id}`).inspect();
  return Object.fromEntries(
    info.Config.Env.map((entry) => [entry.slice(0, entry.indexOf("=")), entry.slice(entry.indexOf("=") + 1)]),
  );
}

async function asInstance(env: Record<string, string>, database = env.TRYIT_DB_NAME) {
  return mysql.createConnection({
    host: env.TRYIT_DB_HOST,
    port: Number(env.TRYIT_DB_PORT),
    user: env.TRYIT_DB_USER,
    password: env.TRYIT_DB_PASSWORD,
    database,
    connectTimeout: 5000,
  });
}

/** From inside an instance: the first bytes the address answers with, or busybox's complaint. */
async function probeFrom(containerId: string, host: string, port: number): Promise<string> {
  return (await execIn(containerId, `echo | timeout 5 nc ${host} ${port} 2>&1 | head -c 200 | tr -cd 'A-Za-z0-9.: -'`)).output;
}

beforeAll(async () => {
  expect(endpoint, "the demo database server's address").not.toBeNull();
  mkdirSync(config.SEEDS_DIR, { recursive: true });
  writeFileSync(`${config.SEEDS_DIR}/notes.sql`, SEED);
  writeFileSync(`${config.SEEDS_DIR}/broken.sql`, "CREATE TABLE broken (;\n");
  worker = startWorker("worker-databases");
  withDb = await createApp("db", {
    pool_target: 2,
    egress: "none",
    database: "mariadb",
    database_seed: "notes.sql",
    database_env: ["APP_DB=name", "APP_DB_ADDRESS=host_port"],
    database_setup: ["UPDATE site SET url = {{url}}, admin_hash = {{password_md5}}"],
    sign_in_user: "owner",
    sign_in_path: "/login",
    sign_in_password_env: "APP_PASSWORD",
  });
  without = await createApp("nodb", { pool_target: 1, egress: "none" });
  apps.push(withDb, without);
  await waitReady(withDb, 2, 90_000);
  await waitReady(without, 1, 60_000);
}, 180_000);

afterAll(async () => {
  await removeApps(apps, [worker]);
});

describe("a database per demo", () => {
  it("gives each instance its own clone of the seed, its URL and the visitor's password written by the setup step", async () => {
    const first = await acquire(withDb);
    const second = await acquire(withDb);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    const [a, b] = [first.json, second.json];
    // The sign-in, to the visitor who acquired it.
    expect(a.credentials).toEqual({
      username: "owner",
      password: expect.stringMatching(/^[\w-]{16}$/),
      login_url: `${a.url}/login`,
    });
    expect(b.credentials.password).not.toBe(a.credentials.password);
    const [envA, envB] = [await envOf(a.id), await envOf(b.id)];
    expect(envA.APP_PASSWORD).toBe(a.credentials.password);
    expect(envA.APP_DB).toBe(`${prefix}_d_${a.id}`);
    expect(envA.APP_DB_ADDRESS).toBe(`${endpoint?.address}:${endpoint?.port}`);
    expect(envA.TRYIT_DB_PASSWORD).toMatch(/^[\w-]{24}$/);

    const connA = await asInstance(envA);
    const connB = await asInstance(envB);
    try {
      const [site] = (await connA.query("SELECT url, admin_hash FROM site"))[0] as { url: string; admin_hash: string }[];
      expect(site.url).toBe(a.url);
      const { createHash } = await import("node:crypto");
      expect(site.admin_hash).toBe(createHash("md5").update(a.credentials.password).digest("hex"));
      // A write in one demo is not in the other's.
      await connA.query("INSERT INTO notes (body) VALUES ('written in A')");
      const [rowsB] = (await connB.query("SELECT body FROM notes ORDER BY id")) as unknown as [{ body: string }[]];
      expect(rowsB.map((row) => row.body)).toEqual(["seeded note"]);
      // A's user cannot read B's database, nor the template, nor the product's database.
      await expect(connA.query(`SELECT * FROM \`${envB.TRYIT_DB_NAME}\`.notes`)).rejects.toThrow(/denied/i);
      await expect(asInstance(envA, envB.TRYIT_DB_NAME)).rejects.toThrow(/denied/i);
      const [schemas] = (await connA.query("SHOW DATABASES")) as unknown as [{ Database: string }[]];
      expect(schemas.map((row) => row.Database).sort()).toEqual(["information_schema", envA.TRYIT_DB_NAME]);
    } finally {
      await Promise.all([connA.end(), connB.end()]);
    }

    // Its own token sees the sign-in; the secret key (an owner's listing) does not.
    const own = await api(`/api/v1/demo/${a.id}`, { key: null, headers: { "X-Instance-Token": a.token } });
    expect(own.status).toBe(200);
    expect(own.json.credentials).toEqual(a.credentials);
    const byKey = await api(`/api/v1/demo/${a.id}`);
    expect(byKey.status).toBe(200);
    expect(byKey.json.credentials).toBeUndefined();

    // Released: its database and its user are gone.
    expect((await api(`/api/v1/demo/${a.id}`, { method: "DELETE" })).status).toBe(200);
    await waitFor(
      "the released instance's database and user to be dropped",
      async () => {
        const dbs = await admin<unknown[]>("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", [
          envA.TRYIT_DB_NAME,
        ]);
        const users = await admin<unknown[]>("SELECT 1 FROM mysql.user WHERE User = ?", [envA.TRYIT_DB_USER]);
        return dbs.length === 0 && users.length === 0;
      },
      30_000,
      250,
    );
    await expect(asInstance(envA)).rejects.toThrow(/denied/i);
    expect((await api(`/api/v1/demo/${b.id}`, { method: "DELETE" })).status).toBe(200);
  }, 120_000);

  it("lets only instances of apps with a database reach the server, and no other port of the host", async () => {
    if (!endpoint) throw new Error("no endpoint");
    await waitReady(withDb, 1, 90_000);
    const [dbContainer] = (await containersOf(withDb)).filter((c) => c.State === "running");
    const [plainContainer] = (await containersOf(without)).filter((c) => c.State === "running");
    expect(await probeFrom(dbContainer.Id, endpoint.address, endpoint.port)).toMatch(/MariaDB/);
    expect(await probeFrom(plainContainer.Id, endpoint.address, endpoint.port)).not.toMatch(/MariaDB/);
    // Another database-looking listener on the host: refused even to the app with a database.
    const gateway = Object.values((await docker.getContainer(dbContainer.Id).inspect()).NetworkSettings.Networks)[0].Gateway;
    const listener = net.createServer((socket) => socket.end("not-the-demo-database\n"));
    await new Promise<void>((resolve) => listener.listen(13306, gateway, resolve));
    try {
      expect(await probeFrom(dbContainer.Id, gateway, 13306)).not.toContain("not-the-demo-database");
      // The listener is there: the host itself reaches it.
      const reply = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(13306, gateway, () => undefined);
        socket.on("data", (data) => resolve(data.toString()));
        socket.on("error", reject);
      });
      expect(reply).toContain("not-the-demo-database");
    } finally {
      listener.close();
    }
  }, 120_000);

  it("drops a database whose instance is gone (the reconciler)", async () => {
    const orphan = `${prefix}_d_aaaaaaaaaaaaaaaaaaaa`;
    await admin(`CREATE DATABASE \`${orphan}\``);
    await admin("CREATE USER ?@'%' IDENTIFIED BY 'x-orphan-password'", [orphan]);
    await waitFor(
      "the reconciler to drop the orphan database and user",
      async () => {
        const dbs = await admin<unknown[]>("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", [orphan]);
        const users = await admin<unknown[]>("SELECT 1 FROM mysql.user WHERE User = ?", [orphan]);
        return dbs.length === 0 && users.length === 0;
      },
      30_000,
      250,
    );
  }, 60_000);

  it("makes the template again when it was dropped by hand", async () => {
    await waitReady(withDb, 2, 90_000);
    const [template] = await admin<{ name: string }[]>(
      "SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?",
      [`${prefix}\\_t\\_${withDb.replace(/-/g, "\\_")}\\_%`],
    );
    expect(template?.name).toBeTruthy();
    await admin(`DROP DATABASE \`${template.name}\``);
    const taken = await acquire(withDb);
    expect(taken.status).toBe(200);
    // The worker's next clone fails on the missing template, forgets it, and the one after loads it again.
    await waitReady(withDb, 2, 90_000);
    const again = await admin<unknown[]>("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", [template.name]);
    expect(again).toHaveLength(1);
    expect((await api(`/api/v1/demo/${taken.json.id}`, { method: "DELETE" })).status).toBe(200);
  }, 120_000);

  it("fails the provisions of an app whose seed is broken, with the reason, and starts no container", async () => {
    const broken = await createApp("badseed", { pool_target: 1, database: "mariadb", database_seed: "broken.sql" });
    apps.push(broken);
    const stats = await waitFor("the failed provision", async () => {
      const level = await appStats(broken);
      return level && (level as { consecutive_failures?: number }).consecutive_failures ? level : null;
    });
    expect((stats as unknown as { last_error: string }).last_error).toMatch(/seed broken\.sql could not be loaded: ERROR 1064/);
    expect(await containersOf(broken)).toEqual([]);
    // An app naming a file outside the seeds folder is refused by the API itself.
    const outside = await api(`/api/v1/apps/${broken}`, { method: "PATCH", json: { database_seed: "../../etc/passwd" } });
    expect(outside.status).toBe(400);
    expect(outside.json.code).toBe("INVALID_REQUEST");
  }, 60_000);

  it("takes an uploaded seed as the app's own, and refuses empty, binary, oversized and other tenants' uploads", async () => {
    const slug = await createApp("upload", { pool_target: 0 });
    apps.push(slug);
    const upload = (body: string | Buffer, key?: string) =>
      fetch(`http://127.0.0.1:${TEST_ENV.PORT}/api/v1/apps/${slug}/seed`, {
        method: "POST",
        headers: { "x-api-key": key ?? TEST_ENV.API_KEY, "content-type": "application/sql" },
        body: typeof body === "string" ? body : new Uint8Array(body),
      });
    const dump = "CREATE TABLE uploaded (id INT PRIMARY KEY);\nINSERT INTO uploaded VALUES (7);\n";
    const made = await upload(dump);
    expect(made.status).toBe(200);
    const body = (await made.json()) as { database: string; database_seed: string; seed: { name: string; bytes: number } };
    expect(body.database).toBe("mariadb");
    expect(body.database_seed).toMatch(new RegExp(`^${slug}-upload-[0-9a-f]{10}\\.sql$`));
    expect(body.seed.bytes).toBe(Buffer.byteLength(dump));
    expect(readFileSync(`${config.SEEDS_DIR}/${body.database_seed}`, "utf8")).toBe(dump);

    // Its instances get the uploaded rows.
    expect((await api(`/api/v1/apps/${slug}`, { method: "PATCH", json: { pool_target: 1 } })).status).toBe(200);
    await waitReady(slug, 1, 90_000);
    const got = await acquire(slug);
    const connection = await asInstance(await envOf(got.json.id));
    try {
      expect(((await connection.query("SELECT id FROM uploaded"))[0] as { id: number }[]).map((row) => row.id)).toEqual([7]);
    } finally {
      await connection.end();
    }

    expect((await upload("")).status).toBe(400);
    expect((await upload(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00]))).status).toBe(400);
    const tooBig = await upload(Buffer.alloc(1024 * 1024 + 1, "-"));
    expect(tooBig.status).toBe(413);
    expect(((await tooBig.json()) as { code: string }).code).toBe("PAYLOAD_TOO_LARGE");
    expect((await upload(dump, "")).status).toBe(401);
    // A key of another app: the app is not there for it.
    const other = await api("/api/v1/keys", {
      method: "POST",
      json: { name: "other", kind: "secret", scopes: ["apps:write", "apps:read"], apps: [without] },
    });
    expect(other.status).toBe(201);
    expect((await upload(dump, other.json.key)).status).toBe(404);
    await api(`/api/v1/keys/${other.json.id}`, { method: "DELETE" });
  }, 150_000);
});
