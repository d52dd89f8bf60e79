/**
 * The route table's security matrix (ARCHITECTURE.md, "Authorization"): every entry of
 * `lib/http/routes.ts`, on the running stack — without credentials 401; without its scope, with a
 * publishable key where only secret keys go, or as a viewer where admins go, 403; and for a key
 * restricted to its apps, another app's resource answers exactly as one that does not exist, while
 * its own is served. (`lib/http/routes.test.ts` proves every route file has an entry here.)
 */
import { jetstream } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { busNames, connectBus } from "../lib/bus/nats";
import { loadConfig } from "../lib/config";
import { ROUTES, type RouteEntry, type RouteName } from "../lib/http/routes";
import { SCOPES, type Scope } from "../lib/keys/model";
import { acquire, api, createApp, removeApps, uniqueSlug, waitFor, waitReady } from "./helpers";
import {
  adminCli,
  deleteAdminUsers,
  type Proc,
  startWorker,
  TEST_API_KEY,
  TEST_ENV,
  TEST_PORT,
  TEST_PREFIX,
} from "./setup/stack";

const ORIGIN = TEST_ENV.PUBLIC_URL;
const NONE_SLUG = "no-such-app-zz";
const NONE_INSTANCE = "aaaaaaaaaaaaaaaaaaaa";
const BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";

interface Probe {
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
}

interface Answer {
  status: number;
  code: string | undefined;
  text: string;
}

/** One request of a route, as the table describes it; a stream (the status route) is cut after its headers. */
async function call(entry: RouteEntry, probe: Probe, headers: Record<string, string>): Promise<Answer> {
  const path = entry.path.replace(/:(\w+)/g, (_, name: string) => encodeURIComponent(probe.params?.[name] ?? "x"));
  const query = probe.query ? `?${new URLSearchParams(probe.query)}` : "";
  const withBody = entry.method !== "GET" && entry.method !== "DELETE";
  const response = await fetch(`http://127.0.0.1:${TEST_PORT}${path}${query}`, {
    method: entry.method,
    // A browser's user agent: the beacon route does not count bots (nor Node's fetch).
    headers: { "user-agent": BROWSER, ...(withBody ? { "content-type": "application/json" } : {}), ...headers },
    body: withBody ? JSON.stringify(probe.body ?? {}) : undefined,
    signal: AbortSignal.timeout(15_000),
  });
  if (response.headers.get("content-type")?.startsWith("text/event-stream")) {
    await response.body?.cancel();
    return { status: response.status, code: undefined, text: "" };
  }
  const text = await response.text();
  let code: string | undefined;
  try {
    code = JSON.parse(text).code;
  } catch {
    code = undefined;
  }
  return { status: response.status, code, text };
}

async function makeKey(body: Record<string, unknown>): Promise<{ id: string; key: string }> {
  const made = await api("/api/v1/keys", { method: "POST", json: body });
  if (made.status !== 201) throw new Error(`key: ${made.status} ${made.text}`);
  return made.json;
}

/** A dashboard session: next-auth's CSRF token, then its credentials callback; the cookies that come back. */
async function signIn(email: string, password: string): Promise<string> {
  const base = `http://127.0.0.1:${TEST_PORT}`;
  const csrf = await fetch(`${base}/api/auth/csrf`);
  const { csrfToken } = (await csrf.json()) as { csrfToken: string };
  const cookies = csrf.headers.getSetCookie().map((cookie) => cookie.split(";")[0]);
  const signedIn = await fetch(`${base}/api/auth/callback/credentials`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: cookies.join("; "), origin: ORIGIN },
    body: new URLSearchParams({ csrfToken, email, password, json: "true" }),
  });
  const session = signedIn.headers
    .getSetCookie()
    .map((cookie) => cookie.split(";")[0])
    .filter((cookie) => cookie.includes("session-token"));
  if (!session.length) throw new Error(`sign-in of ${email} failed: ${signedIn.status}`);
  return [...cookies, ...session].join("; ");
}

const keyRoutes = (Object.entries(ROUTES) as [RouteName, RouteEntry][]).filter(
  ([, entry]) => typeof entry.auth === "object" && "scope" in entry.auth,
);
const sessionRoutes = (Object.entries(ROUTES) as [RouteName, RouteEntry][]).filter(
  ([, entry]) => typeof entry.auth === "object" && "session" in entry.auth,
);
const scopeOf = (entry: RouteEntry) => (entry.auth as { scope: Scope }).scope;

let worker: Proc;
const apps: string[] = [];
let mine: string;
let theirs: string;
/** Deleted by the `apps.delete` probe; created by the `apps.create` one. */
let spare: string;
const fresh = uniqueSlug("fresh");
let theirInstance: string;
let ownInstance: string | null = null;
const letters: Record<string, string> = {};

/** An instance of `mine`, acquired anew once a probe released the last one. */
async function ownInstanceId(): Promise<string> {
  if (ownInstance) return ownInstance;
  await waitReady(mine, 1);
  const got = await acquire(mine);
  if (got.status !== 200) throw new Error(`acquire: ${got.status} ${got.text}`);
  ownInstance = got.json.id as string;
  return ownInstance;
}

/** For a key restricted to `[mine, spare, fresh]`: a request of its own resource, another app's, and one that does not exist. */
async function probesOf(name: RouteName): Promise<{ own: Probe; other: Probe; none: Probe } | null> {
  const entry: RouteEntry = ROUTES[name];
  switch (entry.resource) {
    case "app": {
      const own = name === "apps.delete" ? spare : mine;
      const body = name === "apps.update" ? { description: "probed" } : undefined;
      return {
        own: { params: { slug: own }, body },
        other: { params: { slug: theirs }, body },
        none: { params: { slug: NONE_SLUG }, body },
      };
    }
    case "app-in-query":
      return { own: { query: { app: mine } }, other: { query: { app: theirs } }, none: { query: { app: NONE_SLUG } } };
    case "app-in-body": {
      const body = (app: string) =>
        name === "apps.create"
          ? { slug: app === mine ? fresh : app, image: "tryitnow/hello:latest", pool_target: 0, pool_min: 0 }
          : name === "keys.create"
            ? { name: "probe", kind: "secret", scopes: ["keys:write"], apps: [app] }
            : name === "events.beacon"
              ? { type: "impression", app }
              : name === "blocks.create" || name === "admin.blocks.create"
                ? { cidr: "198.51.100.0/24", app, reason: "route probe", expires_in: "1h" }
                : { app };
      return { own: { body: body(mine) }, other: { body: body(theirs) }, none: { body: body(NONE_SLUG) } };
    }
    case "instance": {
      const body = name === "demo.convert" ? { label: "probe" } : undefined;
      const own = await ownInstanceId();
      if (name === "demo.release") ownInstance = null;
      return {
        own: { params: { id: own }, body },
        other: { params: { id: theirInstance }, body },
        none: { params: { id: NONE_INSTANCE }, body },
      };
    }
    case "key": {
      const own = await makeKey({ name: "own", kind: "secret", scopes: ["demo"], apps: [mine] });
      const other = await makeKey({ name: "other", kind: "secret", scopes: ["demo"], apps: [theirs] });
      return {
        own: { params: { id: own.id } },
        other: { params: { id: other.id } },
        none: { params: { id: "key_doesnotexist" } },
      };
    }
    case "block": {
      const block = async (app: string) => {
        const made = await api("/api/v1/blocks", {
          method: "POST",
          json: { cidr: "198.51.100.0/24", app, reason: "route probe", expires_in: "1h" },
        });
        if (made.status !== 201) throw new Error(`block: ${made.status} ${made.text}`);
        return made.json.id as string;
      };
      return {
        own: { params: { id: await block(mine) } },
        other: { params: { id: await block(theirs) } },
        none: { params: { id: "block_doesnotexist" } },
      };
    }
    case "dead-letter":
      return {
        own: { params: { id: letters[mine] } },
        other: { params: { id: letters[theirs] } },
        none: { params: { id: "999999999" } },
      };
    default:
      return null;
  }
}

beforeAll(async () => {
  worker = startWorker("worker-routes");
  mine = await createApp("mine", { pool_target: 1 });
  theirs = await createApp("theirs", { pool_target: 1 });
  spare = await createApp("spare", { pool_target: 0 });
  apps.push(mine, theirs, spare, fresh);
  await waitReady(theirs, 1);
  const got = await acquire(theirs);
  if (got.status !== 200) throw new Error(`acquire: ${got.status} ${got.text}`);
  theirInstance = got.json.id;
  // A block of each app, so the block lists have something of each to show or hide.
  for (const app of [mine, theirs]) {
    const made = await api("/api/v1/blocks", {
      method: "POST",
      json: { cidr: "192.0.2.0/24", app, reason: `listed for ${app}`, expires_in: "1h" },
    });
    if (made.status !== 201) throw new Error(`block: ${made.status} ${made.text}`);
  }
  // A dead letter of each app, as the cleanup handler writes them (the worker made the streams).
  await waitFor("the dead-letter stream", async () => (await api("/api/v1/jobs/dead")).status === 200, 20_000, 200);
  const nc = await connectBus(loadConfig().NATS_URL);
  const js = jetstream(nc);
  for (const app of [mine, theirs]) {
    const letter = {
      job: { id: `rt${app}`.slice(0, 20), app, reason: "released", request_id: null },
      error: "injected (test)",
      attempts: 3,
      failed_at: new Date().toISOString(),
    };
    letters[app] = String((await js.publish(busNames(TEST_PREFIX).deadCleanupSubject, JSON.stringify(letter))).seq);
  }
  await nc.close();
});
afterAll(() => removeApps(apps, [worker]));

describe("every key route", () => {
  it.each(keyRoutes)("%s: no key 401, without its scope 403, a publishable key where it may not go 403", async (name, entry) => {
    const probe: Probe = { params: { slug: NONE_SLUG, id: NONE_INSTANCE } };
    const anonymous = await call(entry, probe, {});
    expect({ status: anonymous.status, code: anonymous.code }, name).toEqual({ status: 401, code: "UNAUTHORIZED" });
    const scope = scopeOf(entry);
    const lacking = await makeKey({ name: `all but ${scope}`, kind: "secret", scopes: SCOPES.filter((s) => s !== scope) });
    const refused = await call(entry, probe, { "x-api-key": lacking.key });
    expect({ status: refused.status, code: refused.code }, name).toEqual({ status: 403, code: "FORBIDDEN" });
    if (!(entry.auth as { publishable?: string }).publishable) {
      const site = await makeKey({ name: "site", kind: "publishable", apps: [mine], allowed_origins: ["https://shop.example"] });
      const publishable = await call(entry, probe, { "x-api-key": site.key, origin: "https://shop.example" });
      expect({ status: publishable.status, code: publishable.code }, name).toEqual({ status: 403, code: "FORBIDDEN" });
    }
  });

  it.each(keyRoutes)(
    "%s: a key restricted to its apps gets its own, and another app's resource is the same answer as none",
    async (name, entry) => {
      const scope = scopeOf(entry);
      if (entry.resource === "every-app") {
        // The route covers every app: its scope is one a restricted key cannot hold.
        const refused = await api("/api/v1/keys", {
          method: "POST",
          json: { name: "narrow", kind: "secret", scopes: [scope], apps: [mine] },
        });
        expect(refused.status, name).toBe(400);
        return;
      }
      const { key } = await makeKey({ name: `restricted ${scope}`, kind: "secret", scopes: [scope], apps: [mine, spare, fresh] });
      const headers = { "x-api-key": key };
      if (entry.resource === "apps") {
        const listed = await call(entry, {}, headers);
        expect(listed.status, name).toBe(200);
        expect(listed.text, name).toContain(mine);
        expect(listed.text, name).not.toContain(theirs);
        return;
      }
      const probes = await probesOf(name);
      expect(probes, `${name}: the test has no probe for resource "${entry.resource}"`).not.toBeNull();
      if (!probes) return;
      const none = await call(entry, probes.none, headers);
      const other = await call(entry, probes.other, headers);
      expect({ status: other.status, code: other.code }, name).toEqual({ status: none.status, code: none.code });
      // A beacon is 204 whether it counted or not (a bot is not told); the last test checks it did not count.
      if (name !== "events.beacon") expect([403, 404], name).toContain(other.status);
      const own = await call(entry, probes.own, headers);
      expect(own.status, `${name}: ${own.text}`).toBeLessThan(300);
    },
  );

  it("left the other app's instance, app and funnel as they were", async () => {
    expect((await api(`/api/v1/demo/${theirInstance}`)).status).toBe(200);
    expect((await api(`/api/v1/apps/${theirs}`)).json.description ?? "").not.toBe("probed");
    const impressions = async (app: string) =>
      (await api(`/api/v1/analytics/funnel?app=${app}`)).json.steps.find((step: { name: string }) => step.name === "impression")
        .count as number;
    // The own beacon counted; by then the other app's would have too, had it been taken.
    await waitFor("the own beacon in the funnel", async () => (await impressions(mine)) >= 1, 30_000, 250);
    expect(await impressions(theirs)).toBe(0);
  });
});

describe("every dashboard route", () => {
  let viewer: string;
  let admin: string;
  const [viewerEmail, adminEmail] = [`${uniqueSlug("viewer")}@example.com`, `${uniqueSlug("admin")}@example.com`];
  // Other files count the users (the first admin is made when there is none): these go again.
  afterAll(() => deleteAdminUsers([viewerEmail, adminEmail]));
  beforeAll(async () => {
    adminCli(["add", viewerEmail, "--role", "viewer", "--password-stdin"], { input: "viewer-password-1" });
    adminCli(["add", adminEmail, "--role", "admin", "--password-stdin"], { input: "admin-password-1" });
    viewer = await signIn(viewerEmail, "viewer-password-1");
    admin = await signIn(adminEmail, "admin-password-1");
  });

  it.each(sessionRoutes)(
    "%s: no session 401 (an API key is not one), the wrong role or another site 403",
    async (name, entry) => {
      const probe: Probe = { params: { slug: NONE_SLUG, id: NONE_INSTANCE }, query: { app: NONE_SLUG, kind: "funnel" } };
      const origin = { origin: ORIGIN };
      for (const headers of [origin, { ...origin, "x-api-key": TEST_API_KEY }]) {
        const anonymous = await call(entry, probe, headers);
        expect({ status: anonymous.status, code: anonymous.code }, name).toEqual({ status: 401, code: "UNAUTHORIZED" });
      }
      const role = (entry.auth as { session: string }).session;
      const asViewer = await call(entry, probe, { ...origin, cookie: viewer });
      if (role === "admin")
        expect({ status: asViewer.status, code: asViewer.code }, name).toEqual({ status: 403, code: "FORBIDDEN" });
      else expect([401, 403], name).not.toContain(asViewer.status);
      if (entry.method !== "GET") {
        const crossSite = await call(entry, probe, { origin: "https://evil.example", cookie: admin });
        expect({ status: crossSite.status, code: crossSite.code }, name).toEqual({ status: 403, code: "FORBIDDEN" });
        // The admin reaches the route: whatever it answers about a resource that does not exist, it is not a refusal.
        const asAdmin = await call(entry, probe, { ...origin, cookie: admin });
        expect([401, 403], `${name}: ${asAdmin.text}`).not.toContain(asAdmin.status);
      }
    },
  );
});
