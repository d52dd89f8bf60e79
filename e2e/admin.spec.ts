import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { type Browser, expect, type Page, test } from "@playwright/test";
import { adminCli } from "../tests/setup/stack";
import { statusThroughProxy } from "./proxy";

/**
 * The dashboard as its owners use it, in Debian's Chromium against the real stack: sign-in, roles,
 * apps and their pools, running demos, keys, the brute-force limit and the audit log.
 */
const BASE = "http://localhost:18080";
const ADMIN = { email: `owner-${randomBytes(3).toString("hex")}@example.com`, password: "owner-password-0123" };
const VIEWER = { email: `viewer-${randomBytes(3).toString("hex")}@example.com`, password: "viewer-password-0123" };
const SLUG = `dash-${randomBytes(3).toString("hex")}`;
const SHOTS = ".data/test-results/screenshots";

test.describe.configure({ mode: "serial" });

test.beforeAll(() => {
  adminCli(["add", ADMIN.email, "--role", "admin", "--password-stdin"], { input: ADMIN.password });
  adminCli(["add", VIEWER.email, "--role", "viewer", "--password-stdin"], { input: VIEWER.password });
});

async function signIn(page: Page, who: { email: string; password: string }) {
  await page.goto("/admin/sign-in");
  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel("Password").fill(who.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(`${BASE}/admin`);
}

async function signedIn(browser: Browser, who: { email: string; password: string }) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, who);
  return { context, page };
}

test("an unsigned visit goes to sign-in and back; a wrong password is refused, the right one lets in", async ({ page }) => {
  await page.goto("/admin/apps");
  await expect(page).toHaveURL(`${BASE}/admin/sign-in?next=%2Fadmin%2Fapps`);
  await page.getByLabel("Email").fill(ADMIN.email);
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("sign-in-error")).toHaveText("wrong email or password");
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(`${BASE}/admin/apps`);
  await expect(page.getByRole("heading", { name: "Apps", level: 1 })).toBeVisible();
});

test("a viewer sees everything, and a mutation posted directly gets 403 and changes nothing", async ({ browser, request }) => {
  const { context, page } = await signedIn(browser, VIEWER);
  await page.goto("/admin/apps/default");
  await expect(page.getByText("Your role may look but not change.")).toBeVisible();
  await expect(page.getByRole("button", { name: "Save changes" })).toHaveCount(0);
  const before = (await (await request.get("/api/v1/apps/default")).json()).pool_target;

  const created = await page.request.post("/admin/api/apps", {
    data: { slug: "viewer-made", image: "tryitnow/hello:latest" },
    headers: { Origin: BASE },
  });
  expect(created.status()).toBe(403);
  const patched = await page.request.patch("/admin/api/apps/default", {
    data: { pool_target: before + 5 },
    headers: { Origin: BASE },
  });
  expect(patched.status()).toBe(403);
  expect((await patched.json()).code).toBe("FORBIDDEN");
  expect((await request.get("/api/v1/apps/viewer-made")).status()).toBe(404);
  expect((await (await request.get("/api/v1/apps/default")).json()).pool_target).toBe(before);

  // No session at all: 401. And the admin session is no API key: /api/v1 does not accept it.
  expect(
    (await request.post("/admin/api/apps", { data: { slug: "anon", image: "x" }, headers: { Origin: BASE } })).status(),
  ).toBe(401);
  await context.close();
});

test("creating an app fills its pool and the overview shows it live; raising the target moves the pool", async ({ browser }) => {
  const { context, page } = await signedIn(browser, ADMIN);
  await page.goto("/admin/apps/new");
  await page.getByLabel("Slug").fill(SLUG);
  await page.getByLabel("Name").fill("Dashboard test app with a long name that must not break the layout");
  await page.getByLabel("Image").fill("tryitnow/hello-alt:latest");
  await page.getByLabel("Pool target").fill("2");
  await page.getByLabel("Pool minimum").fill("0");
  await page.getByLabel("Pool maximum").fill("5");
  // A cross-field mistake is shown beside its field, and nothing is created.
  await page.getByLabel("Demo length (seconds)").fill("999999");
  await page.getByRole("button", { name: "Create app" }).click();
  await expect(page.locator("#field-default_ttl_seconds-error")).toBeVisible();
  await page.getByLabel("Demo length (seconds)").fill("600");
  await page.getByRole("button", { name: "Create app" }).click();
  await expect(page).toHaveURL(`${BASE}/admin/apps/${SLUG}`);

  await page.goto("/admin");
  // The overview polls: the pool fills without a reload.
  await expect(page.getByTestId(`${SLUG}-ready`)).toHaveText("2", { timeout: 60_000 });

  await page.goto(`/admin/apps/${SLUG}`);
  await page.getByLabel("Pool target").fill("3");
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Saved" })).toBeVisible();
  await expect(page.getByTestId("pool-counts")).toContainText("3 ready", { timeout: 60_000 });
  await context.close();
});

test("env values are never shown again: masked for a viewer and an admin, kept on save, replaced or deleted by the admin", async ({
  browser,
  request,
}) => {
  const slug = `env-${randomBytes(3).toString("hex")}`;
  const made = await request.post("/api/v1/apps", {
    data: {
      slug,
      image: "tryitnow/hello:latest",
      pool_target: 0,
      pool_min: 0,
      env: { DB_PASSWORD: "hunter2-secret", REGION: "eu-west" },
    },
  });
  expect(made.status()).toBe(201);
  const viewer = await signedIn(browser, VIEWER);
  await viewer.page.goto(`/admin/apps/${slug}`);
  await expect(viewer.page.getByLabel("Environment")).toHaveValue("DB_PASSWORD=********\nREGION=********");
  expect(await viewer.page.content()).not.toMatch(/hunter2-secret|eu-west/);
  await viewer.context.close();

  const { context, page } = await signedIn(browser, ADMIN);
  await page.goto(`/admin/apps/${slug}`);
  await page.getByText("Advanced: limits, environment, network, hardening").click();
  const env = page.getByLabel("Environment");
  await expect(env).toHaveValue("DB_PASSWORD=********\nREGION=********");
  expect(await page.content()).not.toMatch(/hunter2-secret|eu-west/);
  for (const width of [1280, 375]) {
    await page.setViewportSize({ width, height: 900 });
    await env.scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${SHOTS}/app-env-${width}.png`, fullPage: true });
  }
  // Keep DB_PASSWORD as it is, replace REGION, add one.
  await env.fill("DB_PASSWORD=********\nREGION=us-east\nFEATURE=on");
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Saved" })).toBeVisible();
  await expect(env).toHaveValue("DB_PASSWORD=********\nREGION=********\nFEATURE=********");
  // Delete a line: the variable is gone. (The saved form is drawn afresh, its advanced part closed.)
  await page.getByText("Advanced: limits, environment, network, hardening").click();
  await env.fill("DB_PASSWORD=********\nFEATURE=********");
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Saved" })).toBeVisible();
  await expect(env).toHaveValue("DB_PASSWORD=********\nFEATURE=********");
  await context.close();
  expect((await (await request.get(`/api/v1/apps/${slug}`)).json()).env).toEqual({
    DB_PASSWORD: "********",
    FEATURE: "********",
  });
  await request.delete(`/api/v1/apps/${slug}`);
});

test("the app page says what an instance may reach; an admin picks the outbound network from the keyboard", async ({
  browser,
  request,
}) => {
  const slug = `net-${randomBytes(3).toString("hex")}`;
  const made = await request.post("/api/v1/apps", {
    data: {
      slug,
      image: "tryitnow/hello:latest",
      pool_target: 0,
      pool_min: 0,
      egress: "allow",
      egress_allow: ["203.0.113.0/24:443"],
      api_access: false,
    },
  });
  expect(made.status()).toBe(201);
  const { context, page } = await signedIn(browser, ADMIN);
  await page.goto(`/admin/apps/${slug}`);
  const reach = page.getByRole("region", { name: "What an instance may reach" });
  await expect(reach).toContainText("only 203.0.113.0/24 port 443");
  await expect(reach).toContainText("cannot reach this product's API");
  await page.getByText("Advanced: limits, environment, network, hardening").click();
  await expect(page.getByLabel("Allow list")).toHaveValue("203.0.113.0/24:443");
  for (const width of [1280, 375]) {
    await page.setViewportSize({ width, height: 900 });
    await page.getByLabel("Outbound network").scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${SHOTS}/app-egress-${width}.png`, fullPage: true });
  }
  // A malformed entry is named beside its field.
  await page.getByLabel("Allow list").fill("203.0.113.0/24");
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.locator("#field-egress_allow-error")).toHaveText("write CIDR:port, e.g. 203.0.113.0/24:443");
  await page.screenshot({ path: `${SHOTS}/app-egress-error-1280.png`, fullPage: true });
  // From the keyboard: focus the select and step up from "Allow list only" to "None".
  await page.getByLabel("Outbound network").focus();
  await page.keyboard.press("ArrowUp");
  await expect(page.getByLabel("Outbound network")).toHaveValue("none");
  await page.getByLabel("Allow list").fill("");
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Saved" })).toBeVisible();
  await expect(reach).toContainText("may reach nothing outside themselves");
  expect((await (await request.get(`/api/v1/apps/${slug}`)).json()).egress).toBe("none");
  await context.close();
  await request.delete(`/api/v1/apps/${slug}`);
});

test("a password change ends the user's sessions in other browsers at once", async ({ browser }) => {
  const who = { email: `moved-${randomBytes(3).toString("hex")}@example.com`, password: "first-password-0123" };
  adminCli(["add", who.email, "--role", "viewer", "--password-stdin"], { input: who.password });
  const other = await signedIn(browser, who);
  expect((await other.page.request.get("/admin/api/overview")).status()).toBe(200);
  adminCli(["passwd", who.email, "--password-stdin"], { input: "second-password-0123" });
  // The very next request of the other browser is signed out: no waiting for the JWT to expire.
  expect((await other.page.request.get("/admin/api/overview")).status()).toBe(401);
  await other.page.goto("/admin");
  await expect(other.page).toHaveURL(/\/admin\/sign-in/);
  await other.context.close();
  // The new password signs in.
  const again = await signedIn(browser, { email: who.email, password: "second-password-0123" });
  await again.context.close();
});

test("terminating a running demo makes its URL stop serving", async ({ browser, request }) => {
  const acquired = await request.post("/api/v1/demo/acquire", { data: { app: SLUG } });
  expect(acquired.status()).toBe(200);
  const instance = await acquired.json();
  expect(await statusThroughProxy(instance.url)).toBe(200);

  const { context, page } = await signedIn(browser, ADMIN);
  await page.goto(`/admin/apps/${SLUG}`);
  await expect(page.getByRole("cell", { name: instance.id, exact: true })).toBeVisible();
  await page.getByRole("button", { name: `+10 min for ${instance.id}` }).click();
  await expect(page.getByRole("row", { name: new RegExp(instance.id) })).toContainText("1×");
  await page.getByRole("button", { name: `Terminate ${instance.id}` }).click();
  await page.getByRole("button", { name: "Terminate demo" }).click();
  await expect(page.getByRole("cell", { name: instance.id, exact: true })).toHaveCount(0);
  await expect.poll(() => statusThroughProxy(instance.url), { timeout: 20_000 }).not.toBe(200);
  expect((await request.get(`/api/v1/demo/${instance.id}`)).status()).toBe(404);
  await context.close();
});

test("a key is shown once and then only its prefix; revoking it makes the API refuse it", async ({ browser, request }) => {
  const { context, page } = await signedIn(browser, ADMIN);
  await page.goto("/admin/keys");
  await expect(page.getByText("No publishable key — create one")).toBeVisible();

  // A secret key first, so the API stays closed once the publishable one is revoked.
  await page.getByLabel("Secret (server to server)").check();
  await page.getByLabel("Name").fill("keeper");
  await page.getByRole("button", { name: "Create key" }).click();
  await expect(page.getByTestId("new-key-value")).toHaveText(/^tin_sk_/);
  // The API is closed now, and a dashboard session is no API key there.
  expect((await page.request.get("/api/v1/pool/stats")).status()).toBe(401);

  await page.getByLabel("Publishable (for a web page: starts demos only)").check();
  await page.getByLabel("Name").fill("shop site");
  await page.getByRole("checkbox", { name: SLUG }).check();
  await page.getByLabel("Allowed origins").fill("http://shop.example");
  await page.getByRole("button", { name: "Create key" }).click();
  await expect(page.getByTestId("new-key-value")).toHaveText(/^tin_pk_/);
  const key = (await page.getByTestId("new-key-value").textContent()) ?? "";

  const acquire = (apiKey: string) =>
    request.post("/api/v1/demo/acquire", {
      data: { app: SLUG },
      headers: { "X-API-Key": apiKey, Origin: "http://shop.example" },
    });
  // The key is good: what the app asks of its visitors next is the browser check (tests/drain.test.ts).
  const accepted = await acquire(key);
  expect(accepted.status()).toBe(403);
  expect(((await accepted.json()) as { code: string }).code).toBe("CHALLENGE_REQUIRED");

  await page.reload();
  expect(await page.content()).not.toContain(key);
  const row = page.getByRole("row", { name: /shop site/ });
  await expect(row).toContainText(`${key.slice(0, 12)}…`);

  await page.getByRole("button", { name: "Revoke shop site" }).click();
  await page.getByRole("button", { name: "Revoke key" }).click();
  await expect(row).toContainText("revoked");
  await expect.poll(async () => (await acquire(key)).status(), { timeout: 10_000 }).toBe(401);

  // Leave the API as the other browser tests expect it: open, with no active key.
  await page.getByRole("button", { name: "Revoke keeper" }).click();
  await page.getByRole("button", { name: "Revoke key" }).click();
  await expect(page.getByRole("row", { name: /keeper/ })).toContainText("revoked");
  await expect.poll(async () => (await request.get("/api/v1/pool/stats")).status(), { timeout: 10_000 }).toBe(200);
  await context.close();
});

test("an admin blocks an address from the keyboard, reads who held a demo, and unblocks; a viewer reads no addresses", async ({
  browser,
  request,
}) => {
  // Blocks an interrupted earlier run left behind go first (the API is open here: no key yet).
  const left = ((await (await request.get("/api/v1/blocks")).json()) as { blocks: { id: string }[] }).blocks;
  for (const block of left) await request.delete(`/api/v1/blocks/${block.id}`);
  const { context, page } = await signedIn(browser, ADMIN);
  await page.goto("/admin/abuse");
  await expect(page.getByText("Nobody is blocked")).toBeVisible();
  // A wrong address is named in plain words.
  await page.getByLabel("Address or network").fill("10.0.0.0/4");
  await page.getByLabel("Address or network").press("Enter");
  await expect(page.getByRole("alert").first()).toContainText("an address or a CIDR");
  for (const width of [1280, 375]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: `${SHOTS}/abuse-error-${width}.png`, fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.getByLabel("Address or network").fill("203.0.113.0/24");
  await page.getByRole("combobox", { name: "App" }).selectOption(SLUG);
  await page.getByLabel("Reason").fill("a script drained the pool at 14:02 from this network, again and again");
  await page.getByLabel("For").selectOption("24h");
  await page.getByLabel("Reason").press("Enter");
  const row = page.getByRole("row", { name: /203\.0\.113\.0\/24/ });
  await expect(row).toContainText(SLUG);
  await expect(page.getByRole("status").filter({ hasText: "203.0.113.0/24 blocked until" })).toBeVisible();

  // A demo held from this browser's address (loopback here) is in the trail.
  const got = await request.post("/api/v1/demo/acquire", { data: { app: SLUG } });
  expect(got.status()).toBe(200);
  const { id } = (await got.json()) as { id: string };
  await expect
    .poll(
      async () => {
        await page.goto(`/admin/abuse?instance=${id}`);
        await page.waitForLoadState("networkidle"); // the search it starts by itself
        return page.getByRole("table", { name: "Abuse trail" }).getByRole("row").count();
      },
      { timeout: 20_000 },
    )
    .toBe(2);
  await expect(page.getByRole("table", { name: "Abuse trail" })).toContainText("127.0.0.1");
  await expect(page.getByRole("table", { name: "Abuse trail" })).toContainText("running");
  for (const width of [1280, 375]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: `${SHOTS}/abuse-trail-${width}.png`, fullPage: true });
    expect(await page.evaluate(() => document.documentElement.scrollWidth), `abuse at ${width} px`).toBeLessThanOrEqual(width);
  }
  await page.setViewportSize({ width: 1280, height: 900 });

  // A viewer sees the block list, not the trail, and the trail's API refuses them.
  const viewer = await signedIn(browser, VIEWER);
  await viewer.page.goto("/admin/abuse");
  await expect(viewer.page.getByText("Only admins can read the abuse trail")).toBeVisible();
  await expect(viewer.page.getByRole("row", { name: /203\.0\.113\.0\/24/ })).toBeVisible();
  await expect(viewer.page.getByRole("button", { name: "Unblock 203.0.113.0/24" })).toHaveCount(0);
  expect((await viewer.page.request.get(`/admin/api/trail?instance=${id}`)).status()).toBe(403);
  await viewer.context.close();

  await page.goto("/admin/abuse");
  await page.getByRole("button", { name: "Unblock 203.0.113.0/24" }).click();
  await page.getByRole("button", { name: "Unblock", exact: true }).click();
  await expect(page.getByText("Nobody is blocked")).toBeVisible();
  await page.goto("/admin/audit");
  await expect(page.getByText("block.create").first()).toBeVisible();
  await expect(page.getByText("block.delete").first()).toBeVisible();
  await context.close();
});

test("the sign-in limit answers on the 11th wrong password, with the time to wait", async ({ page }) => {
  await page.goto("/admin/sign-in");
  await page.getByLabel("Email").fill(VIEWER.email);
  for (let attempt = 1; attempt <= 10; attempt += 1) {
    await page.getByLabel("Password").fill(`wrong-${attempt}`);
    await page.getByRole("button", { name: "Sign in" }).click();
    // Past five failures of the account each attempt waits longer (up to 8 s by the tenth).
    await expect(page.getByTestId("sign-in-error")).toHaveText("wrong email or password", { timeout: 15_000 });
    await expect(page.getByRole("button", { name: "Sign in" })).toBeEnabled();
  }
  await page.getByLabel("Password").fill("wrong-11");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("sign-in-error")).toHaveText(/^too many attempts, try again in \d+ minutes?$/);
  // Even the right password waits now, from this address, for this email.
  await page.getByLabel("Password").fill(VIEWER.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("sign-in-error")).toHaveText(/^too many attempts/);
});

test("the audit log lists what was done, and filters by target", async ({ browser }) => {
  const { context, page } = await signedIn(browser, ADMIN);
  await page.goto("/admin/audit");
  const log = page.getByRole("table", { name: "Audit log" });
  for (const action of [
    "app.create",
    "app.update",
    "instance.extend",
    "instance.terminate",
    "key.create",
    "key.revoke",
    "user.create",
  ]) {
    await expect(log.getByText(action, { exact: true }).first()).toBeVisible();
  }
  await expect(log).toContainText(ADMIN.email);
  await page.getByLabel("Target").selectOption("app");
  await page.getByLabel("Name or id").fill(SLUG);
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(new RegExp(`target=${SLUG}`));
  await expect(log.getByText("app.create", { exact: true })).toHaveCount(1);
  await expect(log.getByText("key.create", { exact: true })).toHaveCount(0);
  await context.close();
});

test("the overview says when a drain cap turned demos away", async ({ browser, request }) => {
  const slug = `cap-${randomBytes(3).toString("hex")}`;
  expect(
    (
      await request.post("/api/v1/apps", {
        data: { slug, image: "tryitnow/hello:latest", pool_target: 2, pool_min: 0, acquire_rate: 1 },
      })
    ).status(),
  ).toBe(201);
  const acquire = () => request.post("/api/v1/demo/acquire", { data: { app: slug } });
  await expect(async () => expect((await acquire()).status()).toBe(200)).toPass({ timeout: 60_000 });
  const capped = await acquire();
  expect(capped.status()).toBe(503);
  expect((await capped.json()).details).toEqual({ reason: "capped", cap: "app" });
  const { context, page } = await signedIn(browser, ADMIN);
  await page.goto("/admin");
  await expect(page.getByRole("status").filter({ hasText: "A drain cap turned away" })).toBeVisible({ timeout: 30_000 });
  for (const width of [1280, 375]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: `${SHOTS}/overview-capped-${width}.png`, fullPage: true });
  }
  await context.close();
  await request.delete(`/api/v1/apps/${slug}`);
});

test("the overview's banner says why the health is degraded, and goes when the cause does", async ({ browser, request }) => {
  // A long slug: the reason wraps on a phone.
  const slug = `broken-image-long-name-${randomBytes(3).toString("hex")}`;
  const created = await request.post("/api/v1/apps", {
    data: { slug, image: "tryitnow/no-such-image:latest", pool_target: 1, pool_min: 0, pool_max: 2 },
  });
  expect(created.status()).toBe(201);
  const { context, page } = await signedIn(browser, ADMIN);
  await page.goto("/admin");
  const banner = page.getByTestId("health-banner");
  await expect(banner).toContainText(`replenishing app ${slug} is backing off`, { timeout: 30_000 });
  await expect(banner).toContainText("Degraded");
  mkdirSync(SHOTS, { recursive: true });
  for (const width of [1280, 375]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: `${SHOTS}/overview-degraded-${width}.png`, fullPage: true });
  }
  expect((await request.delete(`/api/v1/apps/${slug}`)).status()).toBe(200);
  await expect(banner).toHaveCount(0, { timeout: 30_000 });
  await context.close();
});

test("every dashboard page at 1280 and 375 px wide (screenshots in the run's output)", async ({ browser }) => {
  mkdirSync(SHOTS, { recursive: true });
  const pages: [string, string][] = [
    ["overview", "/admin"],
    ["apps", "/admin/apps"],
    ["app", `/admin/apps/${SLUG}`],
    ["new-app", "/admin/apps/new"],
    ["keys", "/admin/keys"],
    ["users", "/admin/users"],
    ["analytics", "/admin/analytics"],
    ["jobs", "/admin/jobs"],
    ["audit", "/admin/audit"],
    ["abuse", "/admin/abuse"],
  ];
  for (const width of [1280, 375]) {
    const context = await browser.newContext({ viewport: { width, height: 900 } });
    const page = await context.newPage();
    await page.goto("/admin/sign-in");
    await page.screenshot({ path: `${SHOTS}/sign-in-${width}.png`, fullPage: true });
    await signIn(page, ADMIN);
    for (const [name, path] of pages) {
      await page.goto(path);
      await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
      await page.screenshot({ path: `${SHOTS}/${name}-${width}.png`, fullPage: true });
      // Nothing may be wider than the screen (tables scroll inside their own box).
      expect(await page.evaluate(() => document.documentElement.scrollWidth), `${name} at ${width} px`).toBeLessThanOrEqual(
        width,
      );
    }
    await context.close();
  }
});
