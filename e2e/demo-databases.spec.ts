/**
 * WordPress as the proof (ARCHITECTURE.md, "Demo databases"): the example app of
 * examples/wordpress/app.json, its seed cloned into a database per demo. A visitor starts it from the
 * launch page, sees the seeded site under the instance's own URL, signs in to /wp-admin with the
 * credentials the widget shows, and writes a draft; a second visitor's demo has none of it, and the
 * first visitor's password does not open the second's. It runs before visitor.spec.ts, whose last test
 * closes the open API with a key, as the files' names order them.
 */

import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { type Browser, expect, type Page, test } from "@playwright/test";
import { waitForOpenApi } from "./open-api";

const SEEDS = ".data/test-seeds";
let slug = "";

test.beforeAll(async ({ request }) => {
  test.setTimeout(240_000);
  await waitForOpenApi(request);
  mkdirSync(SEEDS, { recursive: true });
  copyFileSync("examples/wordpress/seed.sql", `${SEEDS}/wordpress.sql`);
  const settings = JSON.parse(readFileSync("examples/wordpress/app.json", "utf8")) as Record<string, unknown>;
  slug = `wp-${randomBytes(3).toString("hex")}`;
  const created = await request.post("/api/v1/apps", { data: { ...settings, slug, pool_target: 2, pool_min: 0, pool_max: 4 } });
  expect(created.status(), await created.text()).toBe(201);
  await expect
    .poll(
      async () => {
        const stats = await (await request.get("/api/v1/pool/stats")).json();
        const level = stats.apps.find((a: { app: string }) => a.app === slug);
        if (level?.last_error) throw new Error(`provision failed: ${level.last_error}`);
        return level?.ready ?? 0;
      },
      { timeout: 200_000, intervals: [1000] },
    )
    .toBeGreaterThanOrEqual(2);
});

test.afterAll(async ({ request }) => {
  if (slug) await request.delete(`/api/v1/apps/${slug}`);
});

/** A new visitor: the launch page, the button, the demo's tab; what the widget shows them. */
async function visit(browser: Browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(`/try/${slug}`);
  const [site] = await Promise.all([context.waitForEvent("page"), page.getByRole("button", { name: "Try it now" }).click()]);
  const username = (await page.getByTestId("username").textContent()) ?? "";
  const password = (await page.getByTestId("password").textContent()) ?? "";
  const loginUrl = (await page.getByTestId("login-url").getAttribute("href")) ?? "";
  // The tab opens inside the click and is sent to the demo once acquire answers.
  await site.waitForURL(/^http:\/\/[a-z2-7]{20}\.localhost:18081\//);
  return { context, page, site, username, password, loginUrl, url: new URL(site.url()).origin };
}

async function signIn(site: Page, loginUrl: string, username: string, password: string) {
  await site.goto(loginUrl);
  await site.locator("#user_login").fill(username);
  await site.locator("#user_pass").fill(password);
  await site.locator("#wp-submit").click();
}

test("a visitor signs in to their own WordPress with the widget's credentials; a second visitor's copy is their own", async ({
  browser,
}) => {
  test.setTimeout(180_000);
  const first = await visit(browser);
  expect(first.url).toMatch(/^http:\/\/[a-z2-7]{20}\.localhost:18081$/);
  // The seeded site, under the instance's own URL (its siteurl was set at the clone).
  await expect(first.site).toHaveTitle(/Try It Now — WordPress demo/);
  await expect(first.site.getByRole("link", { name: "Hello world!" }).first()).toHaveAttribute(
    "href",
    new RegExp(`^${first.url}/`),
  );
  expect(first.username).toBe("admin");
  expect(first.password).toMatch(/^[\w-]{16}$/);
  expect(first.loginUrl).toBe(`${first.url}/wp-login.php`);
  await first.page.screenshot({ path: ".data/test-results/wordpress-widget-1280.png" });

  await signIn(first.site, first.loginUrl, first.username, first.password);
  await expect(first.site.getByRole("heading", { name: "Dashboard", level: 1 })).toBeVisible({ timeout: 20_000 });
  // A draft, written through WordPress's own Quick Draft form.
  const title = `Written in the first demo ${randomBytes(3).toString("hex")}`;
  await first.site.locator("#title").fill(title);
  await first.site.locator("#content").fill("Only this visitor's copy has this.");
  await first.site.locator("#save-post").click();
  await first.site.goto(`${first.url}/wp-admin/edit.php?post_status=draft`);
  await expect(first.site.getByRole("link", { name: title }).first()).toBeVisible();

  const second = await visit(browser);
  expect(second.url).not.toBe(first.url);
  expect(second.password).not.toBe(first.password);
  // The first visitor's password does not open the second's site.
  await signIn(second.site, second.loginUrl, "admin", first.password);
  await expect(second.site.locator("#login_error")).toBeVisible();
  await signIn(second.site, second.loginUrl, second.username, second.password);
  await expect(second.site.getByRole("heading", { name: "Dashboard", level: 1 })).toBeVisible({ timeout: 20_000 });
  await second.site.goto(`${second.url}/wp-admin/edit.php?post_status=draft`);
  await expect(second.site.getByText(title)).toHaveCount(0);

  // Start over: one click ends the demo and hands out a fresh copy, without the draft.
  await first.site.close();
  const [fresh] = await Promise.all([
    first.context.waitForEvent("page"),
    first.page.getByRole("button", { name: "Start over" }).click(),
  ]);
  await fresh.waitForURL(/^http:\/\/[a-z2-7]{20}\.localhost:18081\//);
  const freshUrl = new URL(fresh.url()).origin;
  expect(freshUrl).not.toBe(first.url);
  await expect(first.page.getByTestId("instance-url")).toHaveAttribute("href", freshUrl);
  const freshPassword = (await first.page.getByTestId("password").textContent()) ?? "";
  await signIn(fresh, `${freshUrl}/wp-login.php`, "admin", freshPassword);
  await fresh.goto(`${freshUrl}/wp-admin/edit.php?post_status=draft`);
  await expect(fresh.getByRole("heading", { name: "Posts", level: 1 })).toBeVisible();
  await expect(fresh.getByText(title)).toHaveCount(0);

  await first.context.close();
  await second.context.close();
});
