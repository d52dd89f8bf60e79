import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { type APIRequestContext, type Browser, expect, type Page, test } from "@playwright/test";
import { adminCli } from "../tests/setup/stack";
import { waitForOpenApi } from "./open-api";

/**
 * The funnel, scripted end to end on a fresh app with exact numbers: the embed on a page of another
 * origin in Chromium (impressions, clicks, demos opened in tabs through Caddy), more demos and
 * rejections through the API, extensions, conversions (one repeated, one after the end); then the
 * same numbers from the API and on the dashboard's Analytics page, and in its CSV.
 */
const WEB = "http://localhost:18080";
const SLUG = `funnel-${randomBytes(3).toString("hex")}`;
const QUIET = `quiet-${randomBytes(3).toString("hex")}`;
const ADMIN = { email: `analyst-${randomBytes(3).toString("hex")}@example.com`, password: "analyst-password-0123" };
const SHOTS = ".data/test-results/screenshots";

let server: http.Server;
let port = 0;
let secret = "";
let publishable = "";

async function api(request: APIRequestContext, method: string, path: string, data?: unknown) {
  const response = await request.fetch(`${WEB}${path}`, { method, data, headers: secret ? { "X-API-Key": secret } : {} });
  return { status: response.status(), json: await response.json().catch(() => null) };
}

const site = (query = "") => `http://site.localhost:${port}/landing${query}`;

/**
 * A person's browser: headless Chromium says "HeadlessChrome" in its user agent, which the bot list
 * (rightly) refuses to count, so the visitors here present the desktop browser's.
 */
const PERSON = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

/** One page view in a browser of its own (a visitor's demo lives in that browser's storage). */
async function visit(browser: Browser, query = "") {
  const context = await browser.newContext({ userAgent: PERSON });
  const page = await context.newPage();
  await page.goto(site(query));
  await expect(page.getByRole("button", { name: "Try it now" })).toBeVisible();
  return { context, page };
}

test.describe.configure({ mode: "serial" });

test.beforeAll(async ({ request }) => {
  mkdirSync(SHOTS, { recursive: true });
  adminCli(["add", ADMIN.email, "--role", "viewer", "--password-stdin"], { input: ADMIN.password });
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://host");
    const analytics = url.searchParams.get("analytics") === "off" ? 'data-analytics="off"' : "";
    res
      .writeHead(200, { "content-type": "text/html; charset=utf-8" })
      .end(`<!doctype html><html><head><title>Landing</title></head>
<body><h1>Our product</h1><p>Try it: <script src="${WEB}/embed.js" data-key="${publishable}" data-app="${SLUG}" ${analytics} async></script></p></body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
  // Four instances at most: the fifth acquire finds the pool empty.
  const fields = { image: "tryitnow/hello:latest", pool_min: 0, pool_target: 4, pool_max: 4 };
  expect((await api(request, "POST", "/api/v1/apps", { slug: SLUG, ...fields })).status).toBe(201);
  expect((await api(request, "POST", "/api/v1/apps", { slug: QUIET, ...fields, pool_target: 0 })).status).toBe(201);
  const made = await api(request, "POST", "/api/v1/keys", {
    name: "e2e analytics admin",
    kind: "secret",
    scopes: ["demo", "apps:read", "apps:write", "keys:write", "events:write", "analytics:read"],
  });
  secret = made.json.key;
  const key = await api(request, "POST", "/api/v1/keys", {
    name: "landing",
    kind: "publishable",
    apps: [SLUG],
    allowed_origins: [`http://site.localhost:${port}`],
  });
  publishable = key.json.key;
  await expect
    .poll(
      async () =>
        (await api(request, "GET", "/api/v1/pool/stats")).json?.apps?.find((a: { app: string }) => a.app === SLUG)?.ready ?? 0,
      { timeout: 60_000 },
    )
    .toBe(4);
});

test.afterAll(async ({ request }) => {
  server?.close();
  const { json } = await api(request, "GET", "/api/v1/keys");
  const live = (json?.keys ?? []).filter((key: { revoked_at: string | null }) => !key.revoked_at);
  const own = live.find((key: { name: string }) => key.name === "e2e analytics admin");
  for (const key of live.filter((k: { id: string }) => k.id !== own?.id)) await api(request, "DELETE", `/api/v1/keys/${key.id}`);
  for (const app of [SLUG, QUIET]) await api(request, "DELETE", `/api/v1/apps/${app}`);
  if (own) await api(request, "DELETE", `/api/v1/keys/${own.id}`);
  await waitForOpenApi(request);
});

test("a scripted visit of the funnel gives exact numbers in the API, on the Analytics page and in its CSV", async ({
  browser,
  request,
}) => {
  // 4 page views that see the button (a fifth has analytics off); 3 of them press it, each gets a
  // demo in a new tab, opened through Caddy.
  const views = [];
  for (let i = 0; i < 4; i += 1) views.push(await visit(browser, i === 0 ? "?utm_source=newsletter&session=secret" : ""));
  const silent = await visit(browser, "?analytics=off");
  const ids: string[] = [];
  for (const { context, page } of views.slice(0, 3)) {
    const [tab] = await Promise.all([context.waitForEvent("page"), page.getByRole("button", { name: "Try it now" }).click()]);
    const url = (await page.getByTestId("instance-url").getAttribute("href")) ?? "";
    ids.push(new URL(url).hostname.split(".")[0]);
    await expect(tab.locator("#instance")).toHaveText(ids.at(-1)!); // served through Caddy
  }
  // A crawler's beacon is answered and not counted.
  const bot = await request.post(`${WEB}/api/v1/events?key=${publishable}`, {
    headers: {
      "content-type": "text/plain",
      origin: `http://site.localhost:${port}`,
      "user-agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    },
    data: JSON.stringify({ type: "impression", app: SLUG, page: site() }),
  });
  expect(bot.status()).toBe(204);

  // A fourth demo through the API, never opened; then the pool is empty: two rejections.
  const fourth = await api(request, "POST", "/api/v1/demo/acquire", { app: SLUG });
  expect(fourth.status).toBe(200);
  ids.push(fourth.json.id);
  for (let i = 0; i < 2; i += 1) expect((await api(request, "POST", "/api/v1/demo/acquire", { app: SLUG })).status).toBe(503);

  // One demo extended twice (one instance that extended); two converted, one of them twice with the
  // same label and once more with another, the other after it was released.
  for (let i = 0; i < 2; i += 1)
    expect((await api(request, "POST", `/api/v1/demo/${ids[0]}/extend`, { minutes: 5 })).status).toBe(200);
  for (let i = 0; i < 2; i += 1)
    expect((await api(request, "POST", `/api/v1/demo/${ids[0]}/convert`, { label: "signup" })).status).toBe(202);
  expect(
    (await api(request, "POST", `/api/v1/demo/${ids[0]}/convert`, { label: "paid", value: 49, currency: "EUR" })).status,
  ).toBe(202);
  expect((await api(request, "DELETE", `/api/v1/demo/${ids[1]}`)).status).toBe(200);
  await expect
    .poll(async () => (await api(request, "POST", `/api/v1/demo/${ids[1]}/convert`, {})).status, { timeout: 15_000 })
    .toBe(202);

  const expected = { impression: 4, click: 3, acquired: 4, visited: 3, extended: 1, converted: 2 };
  const from = new Date(Date.now() - 3_600_000).toISOString();
  const to = new Date(Date.now() + 3_600_000).toISOString();
  const read = async () => (await api(request, "GET", `/api/v1/analytics/funnel?app=${SLUG}&from=${from}&to=${to}`)).json;
  await expect
    .poll(
      async () =>
        Object.fromEntries(((await read())?.steps ?? []).map((s: { name: string; count: number }) => [s.name, s.count])),
      { timeout: 30_000 },
    )
    .toEqual(expected);
  const funnel = await read();
  expect(funnel.steps.map((s: { name: string }) => s.name)).toEqual(Object.keys(expected));
  expect(funnel.rejected).toEqual({ exhausted: 2, capped: 0, challenge: 0, blocked: 0, rate_limited: 0, paused: 0 });
  expect(funnel.sessions.count).toBe(4);
  expect(funnel.first_visit.median_seconds).toBeGreaterThanOrEqual(0);
  expect(funnel.sessions.median_seconds).toBeGreaterThan(0); // the released one has a length

  // The dashboard shows the same numbers.
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await signIn(page);
  await page.goto(`/admin/analytics?app=${SLUG}`);
  for (const [step, count] of Object.entries(expected)) await expect(page.getByTestId(`count-${step}`)).toHaveText(String(count));
  await expect(page.getByTestId("rejected-exhausted")).toHaveText("2");
  await expect(page.getByRole("table", { name: "Page" })).toContainText("/landing?utm_source=newsletter");
  await expect(page.getByRole("table", { name: "Page" })).not.toContainText("secret");
  await page.screenshot({ path: `${SHOTS}/admin-analytics-1280.png`, fullPage: true });
  await page.setViewportSize({ width: 375, height: 800 });
  await page.screenshot({ path: `${SHOTS}/admin-analytics-375.png`, fullPage: true });
  expect(await page.evaluate(() => document.documentElement.scrollWidth), "nothing wider than a phone").toBeLessThanOrEqual(375);

  // The CSV of the funnel has the same counts.
  await page.setViewportSize({ width: 1280, height: 900 });
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Funnel CSV" }).click()]);
  const csv = readFileSync((await download.path())!, "utf8");
  expect(csv).toContain("converted,2,");
  expect(csv).toContain("rejected:exhausted,2,,");

  // An app with no visitors says so rather than drawing empty charts.
  await page.goto(`/admin/analytics?app=${QUIET}`);
  await expect(page.getByText("No visitors in this range")).toBeVisible();
  await page.screenshot({ path: `${SHOTS}/admin-analytics-empty-1280.png`, fullPage: true });
  await page.setViewportSize({ width: 375, height: 800 });
  await page.screenshot({ path: `${SHOTS}/admin-analytics-empty-375.png`, fullPage: true });
  await context.close();
  for (const view of [...views, silent]) await view.context.close();
});

async function signIn(page: Page) {
  await page.goto(`${WEB}/admin/sign-in`);
  await page.getByLabel("Email").fill(ADMIN.email);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(`${WEB}/admin`);
}
