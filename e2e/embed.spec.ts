import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { type APIRequestContext, expect, type Page, test } from "@playwright/test";
import { extendOnceVisited } from "./extend";
import { waitForOpenApi } from "./open-api";
import { statusThroughProxy } from "./proxy";

/**
 * The embeddable button on somebody else's site: a page served by this test from its own origin,
 * with hostile CSS and a strict Content-Security-Policy that allows only our web host.
 */
const WEB = "http://localhost:18080";
const HOSTILE_CSS = "button { display: none !important } * { font: 2px serif !important } div { color: red !important }";
const CSP = `default-src 'none'; script-src ${WEB}; connect-src ${WEB}; style-src 'self'; frame-src http://*.localhost:18081`;

let server: http.Server;
let port = 0;
let secret = "";
const keys: Record<string, string> = {};
const apps = {
  main: `shop-${randomBytes(3).toString("hex")}`,
  second: `blog-${randomBytes(3).toString("hex")}`,
  empty: `empty-${randomBytes(3).toString("hex")}`,
  stingy: `stingy-${randomBytes(3).toString("hex")}`,
  launch: `launch-${randomBytes(3).toString("hex")}`,
  gated: `gated-${randomBytes(3).toString("hex")}`,
};

/** The host page: `?key=<name>` (or `?raw=<key>`) picks the key, `?apps=a,b` the apps (one element each), `?open=` the mode. */
function page(query: URLSearchParams): string {
  const key = query.get("raw") ?? keys[query.get("key") ?? "site"] ?? "";
  const list = (query.get("apps") ?? apps.main).split(",");
  const open = query.get("open") ?? "tab";
  const mounts =
    list.length > 1 ? list.map((app) => `<div data-tryitnow data-app="${app}" data-open="${open}"></div>`).join("\n") : "";
  const single = list.length > 1 ? "" : `data-app="${list[0]}" data-open="${open}"`;
  return `<!doctype html><html><head><title>A shop</title><link rel="stylesheet" href="/hostile.css"></head>
<body><h1>Our product</h1>${mounts}
<p>Try it: <script src="${WEB}/embed.js" data-key="${key}" ${single} async></script></p></body></html>`;
}

async function api(request: APIRequestContext, method: string, path: string, data?: unknown) {
  const response = await request.fetch(`${WEB}${path}`, { method, data, headers: secret ? { "X-API-Key": secret } : {} });
  return { status: response.status(), json: await response.json().catch(() => null) };
}

async function readyCount(request: APIRequestContext, app: string): Promise<number> {
  const { json } = await api(request, "GET", "/api/v1/pool/stats");
  return json?.apps?.find((entry: { app: string }) => entry.app === app)?.ready ?? 0;
}

const SHOTS = ".data/test-results/screenshots";
const shot = (target: Page, name: string) =>
  target.screenshot({ path: `${SHOTS}/embed-${name}-${target.viewportSize()?.width}.png`, fullPage: true });

const shop = (query = "") => `http://shop.localhost:${port}/${query ? `?${query}` : ""}`;

function collectCspViolations(target: Page): string[] {
  const violations: string[] = [];
  target.on("console", (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
  });
  return violations;
}

test.describe.configure({ mode: "serial" });

test.beforeAll(async ({ request }) => {
  mkdirSync(SHOTS, { recursive: true });
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://host");
    if (url.pathname === "/hostile.css") {
      res.writeHead(200, { "content-type": "text/css" }).end(HOSTILE_CSS);
      return;
    }
    res
      .writeHead(200, { "content-type": "text/html; charset=utf-8", "content-security-policy": CSP })
      .end(page(url.searchParams));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;

  // The API is open until the first key: make the apps, then a secret key to manage the rest.
  await waitForOpenApi(request);
  const fields = { image: "tryitnow/hello:latest", pool_min: 0, pool_max: 6 };
  await api(request, "POST", "/api/v1/apps", { slug: apps.main, pool_target: 2, ...fields });
  await api(request, "POST", "/api/v1/apps", { slug: apps.second, pool_target: 1, bot_gate: "none", ...fields });
  // A hard proof of work (seconds of hashing), so its busy state can be seen.
  await api(request, "POST", "/api/v1/apps", { slug: apps.gated, pool_target: 1, gate_difficulty: 6_000_000, ...fields });
  await api(request, "POST", "/api/v1/apps", { slug: apps.empty, pool_target: 0, ...fields });
  await api(request, "POST", "/api/v1/apps", {
    slug: apps.stingy,
    pool_target: 1,
    max_extensions: 1,
    extend_minutes: 5,
    ...fields,
  });
  await api(request, "POST", "/api/v1/apps", {
    slug: apps.launch,
    pool_target: 1,
    launch_page: true,
    name: "Launchable",
    description: "A demo anyone may start from its page.",
    ...fields,
  });
  const made = await api(request, "POST", "/api/v1/keys", {
    name: "e2e embed admin",
    kind: "secret",
    scopes: ["demo", "apps:write", "apps:read", "keys:write"],
  });
  secret = made.json.key;
  const site = await api(request, "POST", "/api/v1/keys", {
    name: "shop site",
    kind: "publishable",
    apps: [apps.main, apps.second, apps.empty, apps.stingy, apps.gated],
    allowed_origins: [`http://shop.localhost:${port}`],
  });
  keys.site = site.json.key;
  for (const app of [apps.main, apps.second, apps.stingy, apps.launch, apps.gated]) {
    await expect.poll(() => readyCount(request, app), { timeout: 60_000 }).toBeGreaterThanOrEqual(1);
  }
});

test.afterAll(async ({ request }) => {
  server?.close();
  // Leave the API open for the other browser tests: revoke every key made here (the admin key last).
  const { json } = await api(request, "GET", "/api/v1/keys");
  const mine = (json?.keys ?? []).filter(
    (key: { revoked_at: string | null; name: string }) => !key.revoked_at && key.name !== "e2e embed admin",
  );
  for (const key of mine) await api(request, "DELETE", `/api/v1/keys/${key.id}`);
  const own = (json?.keys ?? []).find(
    (key: { name: string; revoked_at: string | null }) => key.name === "e2e embed admin" && !key.revoked_at,
  );
  if (own) await api(request, "DELETE", `/api/v1/keys/${own.id}`);
});

test("on a hostile page with a strict CSP: open in a tab, count down, extend, survive a reload, end", async ({
  page,
  context,
  request,
}) => {
  const violations = collectCspViolations(page);
  await page.goto(shop());
  const button = page.getByRole("button", { name: "Try it now" });
  await expect(button).toBeVisible();
  await shot(page, "idle");
  // The host's `* { font: 2px serif !important }` does not reach inside.
  expect(await button.evaluate((node) => Number.parseFloat(getComputedStyle(node).fontSize))).toBeGreaterThan(12);

  const [tab] = await Promise.all([context.waitForEvent("page"), button.click()]);
  const link = page.getByTestId("instance-url");
  await expect(link).toBeVisible();
  const url = (await link.getAttribute("href")) ?? "";
  const id = new URL(url).hostname.split(".")[0];
  await expect(tab).toHaveURL(`${url}/`);
  await expect(tab.locator("#instance")).toHaveText(id); // the sample app asks /cgi-bin/whoami
  expect(await tab.evaluate(() => window.opener)).toBeNull();

  const ttl = page.getByTestId("ttl");
  const first = (await ttl.textContent()) ?? "";
  await expect(ttl).not.toHaveText(first, { timeout: 5000 });
  await extendOnceVisited(page, "Add 10 minutes");
  await expect(ttl).toHaveText(/^(39|40):\d\d$/);

  await page.reload();
  await expect(page.getByTestId("ttl")).toHaveText(/^(39|40):\d\d$/);
  await shot(page, "running");

  await page.getByRole("button", { name: "End demo" }).click();
  await shot(page, "confirm");
  await page.getByRole("button", { name: "End it" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Your demo has ended." })).toBeVisible();
  await shot(page, "ended");
  await expect.poll(async () => (await api(request, "GET", `/api/v1/demo/${id}`)).status).toBe(404);
  await expect.poll(() => statusThroughProxy(url), { timeout: 20_000 }).not.toBe(200);
  expect(violations).toEqual([]);
});

test("when the status stream is refused (the per-address cap), the countdown follows the server by polling", async ({
  page,
  request,
}) => {
  // Fill this address's stream slots (SSE_MAX_PER_IP=4 in the test stack) with streams of another demo.
  const other = await api(request, "POST", "/api/v1/demo/acquire", { app: apps.second });
  expect(other.status).toBe(200);
  const streams = new AbortController();
  const open = () =>
    fetch(`http://127.0.0.1:18080/api/v1/demo/${other.json.id}/status`, {
      headers: { "X-API-Key": secret },
      signal: streams.signal,
    }).then((r) => r.status);
  try {
    expect(await Promise.all([open(), open(), open(), open()])).toEqual([200, 200, 200, 200]);
    expect(await open()).toBe(429);

    await page.goto(shop());
    await page.getByRole("button", { name: "Try it now" }).click();
    const link = page.getByTestId("instance-url");
    await expect(link).toBeVisible();
    const id = new URL((await link.getAttribute("href")) ?? "").hostname.split(".")[0];
    const ttl = page.getByTestId("ttl");
    await expect(ttl).toHaveText(/^(29|30):\d\d$/);
    // Changed elsewhere (here: the API): the widget learns it from its polling within seconds.
    expect((await api(request, "POST", `/api/v1/demo/${id}/extend`, { minutes: 10 })).status).toBe(200);
    await expect(ttl).toHaveText(/^(39|40):\d\d$/, { timeout: 12_000 });
    await api(request, "DELETE", `/api/v1/demo/${id}`);
    await expect(page.getByRole("status").filter({ hasText: "Your demo has ended." })).toBeVisible({ timeout: 12_000 });
  } finally {
    streams.abort();
    await api(request, "DELETE", `/api/v1/demo/${other.json.id}`);
  }
});

test("an origin the key does not allow gets a clear message, and no instance is made", async ({ page, request }) => {
  const before = (await api(request, "GET", "/api/v1/pool/stats")).json.assigned;
  await page.goto(`http://elsewhere.localhost:${port}/`);
  await page.getByRole("button", { name: "Try it now" }).click();
  await expect(page.getByText("This demo could not be started from this page.")).toBeVisible();
  await shot(page, "refused");
  expect((await api(request, "GET", "/api/v1/pool/stats")).json.assigned).toBe(before);
});

test("an empty pool shows the busy message, then succeeds once the pool refills", async ({ page, request }) => {
  await page.goto(shop(`apps=${apps.empty}`));
  await page.getByRole("button", { name: "Try it now" }).click();
  await expect(page.getByText(/All demos are busy — trying again in \d+ s/)).toBeVisible();
  await shot(page, "busy");
  await api(request, "PATCH", `/api/v1/apps/${apps.empty}`, { pool_target: 1 });
  await expect(page.getByTestId("ttl")).toBeVisible({ timeout: 40_000 });
  await expect(page.getByTestId("instance-url")).toHaveAttribute("href", /^http:\/\/[a-z2-7]{20}\.localhost:18081$/);
});

test("two buttons for two apps on one page each get their own instance; modal mode frames the demo", async ({ page }) => {
  const events: string[] = [];
  await page.exposeFunction("recordEvent", (name: string) => events.push(name));
  await page.goto(shop(`apps=${apps.main},${apps.second}&open=modal`));
  await page.evaluate(() =>
    document.addEventListener("tryitnow:acquired", (e) =>
      (window as unknown as { recordEvent(n: string): void }).recordEvent((e as CustomEvent).detail.app),
    ),
  );
  const buttons = page.getByRole("button", { name: "Try it now" });
  await expect(buttons).toHaveCount(2);
  await buttons.nth(0).click();
  const frame = page.frameLocator("iframe");
  await expect(frame.locator("#instance")).toHaveText(/^[a-z2-7]{20}$/);
  await shot(page, "modal");
  await page.getByRole("button", { name: "Close" }).click();
  await page.getByRole("button", { name: "Try it now" }).click();
  await expect(page.locator("iframe")).toHaveCount(1);
  await page.getByRole("button", { name: "Close" }).click();
  const links = page.getByTestId("instance-url");
  await expect(links).toHaveCount(2);
  const [a, b] = [await links.nth(0).getAttribute("href"), await links.nth(1).getAttribute("href")];
  expect(a).not.toBe(b);
  expect(events.sort()).toEqual([apps.main, apps.second].sort());
});

test("the browser check runs while the page is read, on the page's thread, and is loaded only for apps that ask", async ({
  page,
  context,
  browser,
}) => {
  const loaded: string[] = [];
  const bodies: Record<string, unknown>[] = [];
  page.on("request", (req) => {
    loaded.push(new URL(req.url()).pathname);
    if (req.url().endsWith("/api/v1/demo/acquire")) bodies.push(req.postDataJSON() as Record<string, unknown>);
  });
  // An app without a gate: the solver is never fetched.
  await page.goto(shop(`apps=${apps.second}`));
  await expect(page.getByRole("button", { name: "Try it now" })).toBeVisible();
  await page.waitForLoadState("networkidle");
  expect(loaded).not.toContain("/embed-gate.js");

  const violations = collectCspViolations(page);
  await page.goto(shop(`apps=${apps.gated}`));
  const button = page.getByRole("button", { name: "Try it now" });
  await expect(button).toBeVisible();
  // Clicked at once, before the hashing is done: the visitor is told what is happening.
  const [tab] = await Promise.all([context.waitForEvent("page"), button.click()]);
  await expect(page.getByRole("button", { name: "Checking your browser…" })).toBeVisible();
  await shot(page, "checking");
  // The page stays responsive while it hashes (slices on the main thread).
  const lag = await page.evaluate(async () => {
    const start = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 0));
    return performance.now() - start;
  });
  expect(lag).toBeLessThan(100);
  await expect(page.getByTestId("instance-url")).toBeVisible({ timeout: 60_000 });
  await tab.close();
  expect(loaded).toContain("/embed-gate.js");
  expect(bodies.some((body) => typeof body.altcha === "string" && body.app === apps.gated)).toBe(true);
  expect(violations).toEqual([]);

  // The same state on a phone, for a new visitor (nothing in storage).
  const narrow = await browser.newContext({ viewport: { width: 375, height: 700 } });
  const small = await narrow.newPage();
  await small.goto(shop(`apps=${apps.gated}`));
  await Promise.all([narrow.waitForEvent("page"), small.getByRole("button", { name: "Try it now" }).click()]);
  await expect(small.getByRole("button", { name: "Checking your browser…" })).toBeVisible();
  await shot(small, "checking");
  await narrow.close();
});

test("when the browser check cannot run (its script is blocked), the visitor gets plain words and no demo", async ({
  browser,
  request,
}) => {
  for (const width of [1280, 375]) {
    const visitor = await browser.newContext({ viewport: { width, height: 700 } });
    await visitor.route("**/embed-gate.js", (route) => route.abort());
    const page = await visitor.newPage();
    await page.goto(shop(`apps=${apps.gated}`));
    const before = (await api(request, "GET", "/api/v1/pool/stats")).json.apps.find(
      (a: { app: string }) => a.app === apps.gated,
    ).assigned;
    await Promise.all([visitor.waitForEvent("page"), page.getByRole("button", { name: "Try it now" }).click()]);
    await expect(page.getByText("The browser check did not pass. Please reload the page and try again.")).toBeVisible();
    await shot(page, "check-failed");
    const after = (await api(request, "GET", "/api/v1/pool/stats")).json.apps.find(
      (a: { app: string }) => a.app === apps.gated,
    ).assigned;
    expect(after).toBe(before);
    await visitor.close();
  }
});

test("a demo nobody opened yet is not extended: the visitor is told to open it first", async ({ browser }) => {
  for (const width of [1280, 375]) {
    const visitor = await browser.newContext({ viewport: { width, height: 700 } });
    // The demo's own host never answers in this browser: no visit reaches the proxy.
    await visitor.route(/\.localhost:18081/, (route) => route.abort());
    const page = await visitor.newPage();
    await page.goto(shop(`apps=${apps.stingy}`));
    await Promise.all([visitor.waitForEvent("page"), page.getByRole("button", { name: "Try it now" }).click()]);
    const extend = page.getByRole("button", { name: "Add 5 minutes" });
    await extend.click();
    await expect(page.getByText("Open the demo first, then you can add time.")).toBeVisible();
    await expect(extend).toBeEnabled();
    await shot(page, "open-first");
    await page.getByRole("button", { name: "End demo" }).click();
    await page.getByRole("button", { name: "End it" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Your demo has ended." })).toBeVisible();
    await visitor.close();
  }
});

test("Extend stops at the app's max_extensions, and says why", async ({ page }) => {
  await page.goto(shop(`apps=${apps.stingy}`));
  await page.getByRole("button", { name: "Try it now" }).click();
  const extend = page.getByRole("button", { name: "Add 5 minutes" });
  await expect(extend).toBeEnabled();
  await extendOnceVisited(page, "Add 5 minutes");
  await expect(extend).toBeDisabled();
  await expect(page.getByText("No extensions left")).toBeVisible();
  await shot(page, "no-extensions");
});

test("a secret key renders nothing and says why in the console", async ({ page }) => {
  const errors: string[] = [];
  page.on("console", (message) => message.type() === "error" && errors.push(message.text()));
  await page.goto(shop(`raw=tin_sk_${"x".repeat(43)}`));
  await expect(page.getByRole("heading", { name: "Our product" })).toBeVisible();
  await expect.poll(() => errors.join("\n")).toContain("secret key");
  await expect(page.getByRole("button", { name: "Try it now" })).toHaveCount(0);
});

test("the launch page of default works with no key; a new app's answers 404", async ({ page, context, request }) => {
  // The app default has its launch page on from the start; give its pool one instance for this test.
  await api(request, "PATCH", "/api/v1/apps/default", { pool_target: 1 });
  await expect.poll(() => readyCount(request, "default"), { timeout: 60_000 }).toBeGreaterThanOrEqual(1);
  await page.goto(`${WEB}/try/${apps.launch}`);
  await expect(page.getByRole("heading", { name: "Try Launchable now" })).toBeVisible();
  await expect(page.getByText("A demo anyone may start from its page.")).toBeVisible();
  await page.goto(`${WEB}/try/default`);
  await expect(page.getByRole("heading", { name: "Try Default app now" })).toBeVisible();
  const [tab] = await Promise.all([context.waitForEvent("page"), page.getByRole("button", { name: "Try it now" }).click()]);
  await expect(tab.locator("#instance")).toHaveText(/^[a-z2-7]{20}$/);
  await page.getByRole("button", { name: "End demo" }).click();
  await page.getByRole("button", { name: "End it" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Your demo has ended." })).toBeVisible();

  await shot(page, "launch-page-ended");
  await api(request, "PATCH", "/api/v1/apps/default", { pool_target: 0 });
  const closed = await page.goto(`${WEB}/try/${apps.second}`);
  expect(closed?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "This demo is not public" })).toBeVisible();
  await expect(page.getByText(/API key|X-API-Key/)).toHaveCount(0);
  await shot(page, "not-public");
});

test.describe("on a phone (375 px)", () => {
  test.use({ viewport: { width: 375, height: 740 } });
  test("the button, the running panel and the modal fit the screen", async ({ page }) => {
    await page.goto(shop(`apps=${apps.main}&open=modal`));
    await page.getByRole("button", { name: "Try it now" }).click();
    await expect(page.frameLocator("iframe").locator("#instance")).toHaveText(/^[a-z2-7]{20}$/);
    await shot(page, "modal");
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await page.getByRole("button", { name: "Close" }).click();
    await shot(page, "running");
    await page.getByRole("button", { name: "End demo" }).click();
    await page.getByRole("button", { name: "End it" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Your demo has ended." })).toBeVisible();
    await shot(page, "ended");
  });
});
