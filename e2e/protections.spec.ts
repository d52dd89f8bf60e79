import { randomBytes } from "node:crypto";
import http from "node:http";
import { expect, type Page, test } from "@playwright/test";
import { adminCli } from "../tests/setup/stack";
import { waitForOpenApi } from "./open-api";

// The spec before this one may have revoked its keys: the API reopens at the worker's next key sync.
test.beforeAll(async ({ request }) => waitForOpenApi(request));

/**
 * Browser protections (ARCHITECTURE.md, "Browser protections"): no page of ours can be framed by
 * another site, and the pages run under their Content-Security-Policy without a single violation.
 */
const BASE = "http://localhost:18080";
const EVIL_PORT = 18099;
const ADMIN = { email: `csp-${randomBytes(3).toString("hex")}@example.com`, password: "csp-password-0123" };

/** Messages Chromium prints when the page's policy blocks something. */
function violations(page: Page): string[] {
  const seen: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) seen.push(message.text());
  });
  return seen;
}

test("a page of another origin cannot frame the dashboard or the launch page; an instance it can", async ({ page, request }) => {
  // An instance as the control: the same framing page loads it, so a refused frame is the policy's doing.
  const made = await request.post("/api/v1/apps", {
    data: {
      slug: `frame-${randomBytes(3).toString("hex")}`,
      image: "tryitnow/hello:latest",
      pool_target: 1,
      pool_min: 0,
      launch_page: true,
    },
  });
  expect(made.status()).toBe(201);
  const { slug } = await made.json();
  await expect
    .poll(
      async () =>
        (await (await request.get("/api/v1/pool/stats")).json()).apps.find((a: { app: string }) => a.app === slug)?.ready ?? 0,
      { timeout: 60_000 },
    )
    .toBe(1);
  const instance = await (await request.post("/api/v1/demo/acquire", { data: { app: slug } })).json();

  const targets = {
    signIn: `${BASE}/admin/sign-in`,
    admin: `${BASE}/admin`,
    launch: `${BASE}/try/${slug}`,
    instance: instance.url as string,
  };
  // The attacker's page, served by a real server of its own origin on loopback (a page the browser
  // did not fetch from an address would be "public", and Chromium's local-network checks, not our
  // policy, would then block every frame).
  const html = `<!doctype html><h1>prize</h1>${Object.entries(targets)
    .map(([name, url]) => `<iframe name="${name}" src="${url}"></iframe>`)
    .join("")}`;
  const evil = http.createServer((_, res) => res.writeHead(200, { "content-type": "text/html" }).end(html));
  await new Promise<void>((resolve) => evil.listen(EVIL_PORT, "127.0.0.1", resolve));
  const refused: string[] = [];
  page.on("console", (message) => {
    if (/frame-ancestors/.test(message.text())) refused.push(message.text());
  });
  await page.goto(`http://evil.localhost:${EVIL_PORT}/`);
  const frameText = async (name: string) => {
    const frame = page.frame({ name });
    if (!frame) return "";
    return frame.evaluate(() => document.body?.textContent ?? "").catch(() => "");
  };
  // The control frame shows the instance's page.
  await expect.poll(() => frameText("instance"), { timeout: 10_000 }).toContain("Hello from Try It Now");
  for (const name of ["signIn", "admin", "launch"]) {
    const text = await frameText(name);
    expect(text, name).not.toMatch(/Sign in|Email|Try .* now|Overview/);
  }
  // Chromium names our policy as the reason, once per refused frame.
  expect(refused.filter((text) => text.includes("frame-ancestors 'none'"))).toHaveLength(3);
  evil.close();
  await request.delete(`/api/v1/demo/${instance.id}`);
});

test("the dashboard and the launch page carry their headers and run without a policy violation", async ({ page, request }) => {
  adminCli(["add", ADMIN.email, "--role", "admin", "--password-stdin"], { input: ADMIN.password });
  const made = await request.post("/api/v1/apps", {
    data: {
      slug: `csp-${randomBytes(3).toString("hex")}`,
      image: "tryitnow/hello:latest",
      pool_target: 0,
      pool_min: 0,
      launch_page: true,
    },
  });
  expect(made.status()).toBe(201);
  const { slug } = await made.json();
  const seen = violations(page);
  for (const path of ["/admin/sign-in", `/try/${slug}`, "/", "/try/no-such-app"]) {
    const response = await request.get(path);
    const headers = response.headers();
    expect(headers["content-security-policy"], path).toMatch(/frame-ancestors 'none'/);
    expect(headers["content-security-policy"], path).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]{16,}'/);
    expect(headers["x-frame-options"], path).toBe("DENY");
    expect(headers["x-content-type-options"], path).toBe("nosniff");
    expect(headers["referrer-policy"], path).toBe("same-origin");
    // HTTP PUBLIC_URL: no HSTS (it would be ignored, and pin nothing).
    expect(headers["strict-transport-security"], path).toBeUndefined();
  }
  // A nonce is fresh per response.
  const nonce = async () =>
    /'nonce-([^']+)'/.exec((await request.get("/admin/sign-in")).headers()["content-security-policy"])?.[1];
  expect(await nonce()).not.toBe(await nonce());

  // Signing in and moving through the dashboard runs its scripts (React hydrates under the policy).
  await page.goto("/admin/sign-in");
  await page.getByLabel("Email").fill(ADMIN.email);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(`${BASE}/admin`);
  for (const path of ["/admin/apps", "/admin/keys", "/admin/analytics"]) {
    await page.goto(path);
    await expect(page.getByRole("heading").first()).toBeVisible();
  }
  await page.goto(`/try/${slug}`);
  await expect(page.getByRole("button", { name: "Try it now" })).toBeVisible();
  expect(seen).toEqual([]);
});
