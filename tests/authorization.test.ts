/**
 * Every key bound to its apps (ARCHITECTURE.md, "Authorization"): a key restricted to some apps
 * touches, lists and mints only within them; another tenant's app, key or dead letter is the same
 * answer as one that does not exist.
 */
import { readFileSync } from "node:fs";
import { jetstream } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { busNames, connectBus } from "../lib/bus/nats";
import { loadConfig } from "../lib/config";
import { MAX_CONVERSION_LABELS } from "../lib/events/convert";
import { acquire, api, containersOf, createApp, execIn, getWithHost, removeApps, waitFor, waitReady } from "./helpers";
import { docker, type Proc, startProcess, startWorker, TEST_PREFIX, TEST_PROXY_PORT } from "./setup/stack";

let worker: Proc;
const apps: string[] = [];
let mine: string;
let theirs: string;

async function makeKey(body: Record<string, unknown>) {
  const made = await api("/api/v1/keys", { method: "POST", json: body });
  if (made.status !== 201) throw new Error(`key: ${made.status} ${made.text}`);
  return made.json as { id: string; key: string };
}

beforeAll(async () => {
  worker = startWorker("worker-authz");
  mine = await createApp("mine", { pool_target: 0 });
  theirs = await createApp("theirs", { pool_target: 0 });
  apps.push(mine, theirs);
});
afterAll(() => removeApps(apps, [worker]));

describe("a key restricted to its apps", () => {
  it("reads, changes and deletes only its apps; another app is the same 404 as none", async () => {
    const { key } = await makeKey({ name: "shop a", kind: "secret", scopes: ["apps:read", "apps:write"], apps: [mine] });
    expect((await api(`/api/v1/apps/${mine}`, { key })).status).toBe(200);
    for (const [method, json] of [
      ["GET", undefined],
      ["PATCH", { pool_target: 1 }],
      ["DELETE", undefined],
    ] as const) {
      const other = await api(`/api/v1/apps/${theirs}`, { method, key, json });
      const none = await api("/api/v1/apps/no-such-app-x", { method, key, json });
      expect(other.status, method).toBe(404);
      expect({ status: other.status, code: other.json.code }).toEqual({ status: none.status, code: none.json.code });
    }
    // Nothing changed on the other app.
    expect((await api(`/api/v1/apps/${theirs}`)).json.pool_target).toBe(0);
    const listed = (await api("/api/v1/apps", { key })).json.apps.map((app: { slug: string }) => app.slug);
    expect(listed).toEqual([mine]);
  });

  it("creates only apps in its list (403 outside it)", async () => {
    const outsider = `${mine}-x`;
    const { key } = await makeKey({ name: "creator", kind: "secret", scopes: ["apps:write"], apps: [mine, outsider] });
    const refused = await api("/api/v1/apps", {
      method: "POST",
      key,
      json: { slug: "elsewhere-x", image: "tryitnow/hello:latest", pool_target: 0 },
    });
    expect(refused.status).toBe(403);
    expect(refused.json.code).toBe("FORBIDDEN");
    expect((await api("/api/v1/apps/elsewhere-x")).status).toBe(404);
    const made = await api("/api/v1/apps", {
      method: "POST",
      key,
      json: { slug: outsider, image: "tryitnow/hello:latest", pool_target: 0, pool_min: 0 },
    });
    expect(made.status, made.text).toBe(201);
    apps.push(outsider);
  });

  it("sees pool stats of its apps only", async () => {
    const { key } = await makeKey({ name: "stats", kind: "secret", scopes: ["demo"], apps: [mine] });
    const stats = (await api("/api/v1/pool/stats", { key })).json;
    expect(stats.apps.map((app: { app: string }) => app.app)).toEqual([mine]);
    expect(stats.capacity).toBe(stats.apps[0].capacity);
  });

  it("cannot mint a wider key: not unrestricted, not another app, not a scope it lacks, never metrics", async () => {
    const { key } = await makeKey({ name: "minter", kind: "secret", scopes: ["keys:write", "demo"], apps: [mine] });
    const every = ["demo", "apps:read", "apps:write", "keys:write", "metrics", "jobs:write", "events:write", "analytics:read"];
    const attempts = [
      { name: "wide", kind: "secret", scopes: every },
      { name: "unrestricted", kind: "secret", scopes: ["demo"] },
      { name: "other app", kind: "secret", scopes: ["demo"], apps: [theirs] },
      { name: "more scopes", kind: "secret", scopes: ["demo", "apps:write"], apps: [mine] },
      { name: "site elsewhere", kind: "publishable", apps: [mine, theirs], allowed_origins: ["https://shop.example"] },
    ];
    for (const body of attempts) {
      const refused = await api("/api/v1/keys", { method: "POST", key, json: body });
      expect(refused.status, body.name).toBe(403);
      expect(refused.json.code).toBe("FORBIDDEN");
    }
    const metrics = await api("/api/v1/keys", {
      method: "POST",
      json: { name: "m", kind: "secret", scopes: ["metrics"], apps: [mine] },
    });
    expect(metrics.status).toBe(400);
    expect(metrics.json.details).toEqual([expect.objectContaining({ path: "scopes" })]);
    const narrower = await api("/api/v1/keys", {
      method: "POST",
      key,
      json: { name: "narrow", kind: "secret", scopes: ["demo"], apps: [mine] },
    });
    expect(narrower.status, narrower.text).toBe(201);
    const site = await api("/api/v1/keys", {
      method: "POST",
      key,
      json: { name: "site", kind: "publishable", apps: [mine], allowed_origins: ["https://shop.example"] },
    });
    expect(site.status, site.text).toBe(201);
  });

  it("lists and revokes only keys within its apps", async () => {
    const { key } = await makeKey({ name: "keeper", kind: "secret", scopes: ["keys:write"], apps: [mine] });
    const ownKey = await makeKey({ name: "own", kind: "secret", scopes: ["demo"], apps: [mine] });
    const foreign = await makeKey({ name: "foreign", kind: "secret", scopes: ["demo"], apps: [theirs] });
    const wide = await makeKey({ name: "wide", kind: "secret", scopes: ["demo"] });
    const listed = (await api("/api/v1/keys", { key })).json.keys.map((k: { id: string }) => k.id);
    expect(listed).toContain(ownKey.id);
    expect(listed).not.toContain(foreign.id);
    expect(listed).not.toContain(wide.id);
    for (const id of [foreign.id, wide.id, "key_doesnotexist"]) {
      const refused = await api(`/api/v1/keys/${id}`, { method: "DELETE", key });
      expect(refused.status, id).toBe(404);
    }
    expect((await api(`/api/v1/keys/${ownKey.id}`, { method: "DELETE", key })).status).toBe(200);
  });

  it("reads the funnel of its apps only: another app is the same 404 as none", async () => {
    const { key } = await makeKey({ name: "reader", kind: "secret", scopes: ["analytics:read"], apps: [mine] });
    expect((await api(`/api/v1/analytics/funnel?app=${mine}`, { key })).status).toBe(200);
    const other = await api(`/api/v1/analytics/funnel?app=${theirs}`, { key });
    const none = await api("/api/v1/analytics/funnel?app=no-such-app-x", { key });
    expect(other.status).toBe(404);
    expect(other.json.code).toBe(none.json.code);
  });

  it("sees and retries only its apps' dead letters", async () => {
    const names = busNames(TEST_PREFIX);
    const nc = await connectBus(loadConfig().NATS_URL);
    const js = jetstream(nc);
    const letter = (app: string) =>
      JSON.stringify({
        job: { id: `dl${app}`.slice(0, 20), app, reason: "released", request_id: null },
        error: "injected (test)",
        attempts: 3,
        failed_at: new Date().toISOString(),
      });
    // The worker made the streams; a letter of each app, as the cleanup handler writes them.
    await waitFor("the dead-letter stream", async () => (await api("/api/v1/jobs/dead")).status === 200, 20_000, 200);
    const theirsSeq = (await js.publish(names.deadCleanupSubject, letter(theirs))).seq;
    await js.publish(names.deadCleanupSubject, letter(mine));
    await nc.close();
    const { key } = await makeKey({ name: "ops", kind: "secret", scopes: ["jobs:write", "demo"], apps: [mine] });
    const everything = (await api("/api/v1/jobs/dead")).json.dead.map((d: { job: { app: string } }) => d.job.app);
    expect(everything).toEqual(expect.arrayContaining([mine, theirs]));
    // Listing dead letters takes `metrics`, which a restricted key cannot hold.
    expect((await api("/api/v1/jobs/dead", { key })).status).toBe(403);
    const other = await api(`/api/v1/jobs/dead/${theirsSeq}/retry`, { method: "POST", key });
    const none = await api("/api/v1/jobs/dead/999999999/retry", { method: "POST", key });
    expect(other.status).toBe(404);
    expect(other.json.code).toBe(none.json.code);
  });
});

describe("app env", () => {
  it("is write-only: names with masked values for every reader, merged per name by PATCH, real in the container", async () => {
    const slug = await createApp("envy", {
      pool_target: 0,
      env: { TOKEN: "s3cret-value", KEEP: "kept-value", DROP: "dropped-value" },
    });
    apps.push(slug);
    const { key } = await makeKey({ name: "reader", kind: "secret", scopes: ["apps:read"], apps: [slug] });
    for (const reader of [key, undefined]) {
      const shown = await api(`/api/v1/apps/${slug}`, { key: reader });
      expect(shown.json.env).toEqual({ TOKEN: "********", KEEP: "********", DROP: "********" });
      expect(shown.text).not.toMatch(/s3cret-value|kept-value|dropped-value/);
      expect((await api("/api/v1/apps", { key: reader })).text).not.toContain("s3cret-value");
    }
    // Replace one, keep one by sending the mask back, delete one, add one; the others stay as they were.
    const patched = await api(`/api/v1/apps/${slug}`, {
      method: "PATCH",
      json: { env: { TOKEN: "new-secret", KEEP: "********", DROP: null, ADDED: "added-value" }, pool_target: 1 },
    });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.json.env).toEqual({ TOKEN: "********", KEEP: "********", ADDED: "********" });
    expect((await api(`/api/v1/apps/${slug}`, { method: "PATCH", json: { env: { NEW: "********" } } })).status).toBe(400);
    const container = await waitFor("the app's container", async () => (await containersOf(slug))[0], 60_000, 250);
    const env = (await docker.getContainer(container.Id).inspect()).Config.Env;
    expect(env).toEqual(expect.arrayContaining(["TOKEN=new-secret", "KEEP=kept-value", "ADDED=added-value"]));
    expect(env.some((entry) => entry.startsWith("DROP="))).toBe(false);
  });
});

describe("the launch page", () => {
  it("with a key that is not valid for the app is the same 404 as an unpublished app", async () => {
    const site = await makeKey({ name: "site", kind: "publishable", apps: [mine], allowed_origins: ["https://shop.example"] });
    expect(
      (await api(`/api/v1/apps/${theirs}`, { method: "PATCH", json: { name: "Their Shop", description: "their-private-pitch" } }))
        .status,
    ).toBe(200);
    expect((await getWithHost(18080, "localhost:18080", `/try/${mine}?key=${site.key}`)).status).toBe(200);
    const unpublished = await getWithHost(18080, "localhost:18080", `/try/${theirs}`);
    expect(unpublished.status).toBe(404);
    for (const key of ["tin_pk_anything", site.key]) {
      const answer = await getWithHost(18080, "localhost:18080", `/try/${theirs}?key=${key}`);
      expect(answer.status, key).toBe(404);
      expect(answer.text).not.toContain("their-private-pitch");
      expect(answer.text).not.toContain("Their Shop");
      expect(answer.text).toContain("not public");
    }
  });
});

describe("start-up", () => {
  it("refuses an API_KEY shorter than 24 characters, naming it", async () => {
    const web = startProcess("web-short-key", process.execPath, [".next/tin-server.mjs"], { PORT: "18086", API_KEY: "abc" });
    expect(await web.exited).not.toBe(0);
    expect(readFileSync(".data/logs/test-web-short-key.log", "utf8")).toContain("API_KEY: at least 24 characters");
  });
});

describe("conversions from inside the demo", () => {
  it("credit the container's own instance with its token, and no other; the token opens nothing else", async () => {
    const slug = await createApp("convert", { pool_target: 2 });
    apps.push(slug);
    await waitReady(slug, 2);
    const [first, second] = [(await acquire(slug)).json, (await acquire(slug)).json];
    const container = (await containersOf(slug)).find((c) => c.Labels["tryitnow.instance"] === first.id);
    expect(container).toBeDefined();
    const env = (await docker.getContainer(container!.Id).inspect()).Config.Env;
    const gateway = (await docker.getContainer(container!.Id).inspect()).NetworkSettings.Networks["tin-test-net"].Gateway;
    expect(env).toContain(`TRYIT_API_URL=http://${gateway}:${TEST_PROXY_PORT}`);
    expect(env.some((entry) => /^TRYIT_CONVERT_TOKEN=[\w-]{43}$/.test(entry))).toBe(true);
    // What the app's sign-up flow runs: its own id, token and API address, all from its environment.
    const convert = (id: string) =>
      execIn(
        container!.Id,
        `wget -q -S -O - --header "X-Conversion-Token: $TRYIT_CONVERT_TOKEN" --header 'Content-Type: application/json' --post-data '{"label":"signup"}' "$TRYIT_API_URL/api/v1/demo/${id}/convert" 2>&1 | head -c 2000`,
      );
    const own = await convert("$TRYIT_INSTANCE_ID");
    expect(own.output).toMatch(/202 Accepted/);
    expect(own.output).toContain(`"id":"${first.id}"`);
    expect((await convert(second.id)).output).toMatch(/404 Not Found/);
    const token = env.find((entry) => entry.startsWith("TRYIT_CONVERT_TOKEN="))!.split("=")[1];
    // On the API's own port too, the token is for convert of that instance only.
    const withToken = { key: null, headers: { "X-Conversion-Token": token } };
    expect((await api(`/api/v1/demo/${second.id}/convert`, { method: "POST", json: { label: "x" }, ...withToken })).status).toBe(
      404,
    );
    expect((await api(`/api/v1/demo/${first.id}`, withToken)).status).toBe(401);
    expect((await api(`/api/v1/demo/${first.id}/extend`, { method: "POST", json: {}, ...withToken })).status).toBe(401);
    expect((await api(`/api/v1/demo/${first.id}`, { method: "DELETE", ...withToken })).status).toBe(401);
    expect((await api(`/api/v1/demo/${first.id}`)).status).toBe(200);
    // Code in the demo cannot fill the events table by inventing labels.
    // "signup" is one label already; the repeat is free, then 15 more fit and the 17th is refused.
    const labels = Array.from({ length: MAX_CONVERSION_LABELS }, (_, n) => `label-${n}`);
    const answers = [];
    for (const label of ["signup", ...labels])
      answers.push((await api(`/api/v1/demo/${first.id}/convert`, { method: "POST", json: { label }, ...withToken })).status);
    expect(answers.filter((status) => status === 202)).toHaveLength(MAX_CONVERSION_LABELS);
    expect(answers.at(-1)).toBe(409);
    expect(
      (await api(`/api/v1/demo/${first.id}/convert`, { method: "POST", json: { label: "signup" }, ...withToken })).status,
    ).toBe(202);
  });
});
