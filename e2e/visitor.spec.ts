import { randomBytes } from "node:crypto";
import { type APIRequestContext, expect, test } from "@playwright/test";
import { extendOnceVisited } from "./extend";
import { waitForOpenApi } from "./open-api";

// The spec before this one may have revoked its keys: the API reopens at the worker's next key sync.
test.beforeAll(async ({ request }) => waitForOpenApi(request));

async function createReadyApp(request: APIRequestContext, prefix: string): Promise<string> {
  const slug = `${prefix}-${randomBytes(3).toString("hex")}`;
  const created = await request.post("/api/v1/apps", {
    data: { slug, image: "tryitnow/hello:latest", pool_target: 2, pool_min: 0, pool_max: 5, launch_page: true },
  });
  expect(created.status()).toBe(201);
  await expect
    .poll(
      async () => {
        const stats = await (await request.get("/api/v1/pool/stats")).json();
        return stats.apps.find((a: { app: string }) => a.app === slug)?.ready ?? 0;
      },
      { timeout: 60_000 },
    )
    .toBeGreaterThanOrEqual(2);
  return slug;
}

test("a visitor's browser opens an acquired instance's URL and sees the sample app", async ({ page, request }) => {
  const slug = await createReadyApp(request, "e2e");
  const acquired = await request.post("/api/v1/demo/acquire", { data: { app: slug } });
  expect(acquired.status()).toBe(200);
  const instance = await acquired.json();
  expect(instance.url).toBe(`http://${instance.id}.localhost:18081`);

  await page.goto(instance.url);
  await expect(page.getByRole("heading", { name: "Hello from Try It Now" })).toBeVisible();
  // The page asks its own container who it is: the id proves the URL reached this instance.
  await expect(page.locator("#instance")).toHaveText(instance.id);
  await request.delete(`/api/v1/demo/${instance.id}`);
});

test("the launch page: press the button, open the app, watch the countdown, end the demo", async ({ page, request, context }) => {
  const slug = await createReadyApp(request, "launch");
  await page.goto(`/try/${slug}`);
  const button = page.getByRole("button", { name: "Try it now" });
  await button.focus();
  await page.keyboard.press("Enter"); // usable from the keyboard
  const link = page.getByTestId("instance-url");
  await expect(link).toBeVisible();
  const url = await link.getAttribute("href");
  expect(url).toMatch(/^http:\/\/[a-z2-7]{20}\.localhost:18081$/);
  const id = new URL(url!).hostname.split(".")[0];

  const ttl = page.getByTestId("ttl");
  await expect(ttl).toHaveText(/^\d+:\d\d$/);
  const first = await ttl.textContent();
  await expect(ttl).not.toHaveText(first!, { timeout: 5000 }); // the countdown moves

  const [appPage] = await Promise.all([context.waitForEvent("page"), link.click()]);
  await expect(appPage.locator("#instance")).toHaveText(id);
  await appPage.close();

  await page.getByRole("button", { name: "End demo" }).click();
  await page.getByRole("button", { name: "End it" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Your demo has ended." })).toBeVisible();
  await expect.poll(async () => (await request.get(`/api/v1/demo/${id}`)).status()).toBe(404);
});

// Last in this file: the first key closes the open API, as it would on a fresh install.
test("with a publishable key, the launch page starts, follows and ends a demo from its allowed origin", async ({
  page,
  request,
}) => {
  const slug = await createReadyApp(request, "keyed");
  const made = await request.post("/api/v1/keys", {
    data: { name: "launch page", kind: "publishable", apps: [slug], allowed_origins: ["http://localhost:18080"] },
  });
  expect(made.status()).toBe(201);
  const { key } = await made.json();
  expect((await request.get("/api/v1/pool/stats")).status()).toBe(401); // no longer open

  await page.goto(`/try/${slug}?key=${key}`);
  await page.getByRole("button", { name: "Try it now" }).click();
  const link = page.getByTestId("instance-url");
  await expect(link).toBeVisible();
  const id = new URL((await link.getAttribute("href"))!).hostname.split(".")[0];
  const ttl = page.getByTestId("ttl");
  const first = await ttl.textContent();
  await expect(ttl).not.toHaveText(first!, { timeout: 5000 }); // the status stream (key + token in the URL) flows
  await extendOnceVisited(page, "Add 10 minutes");
  await expect(ttl).toHaveText(/^(39|40):\d\d$/);
  await page.getByRole("button", { name: "End demo" }).click();
  await page.getByRole("button", { name: "End it" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Your demo has ended." })).toBeVisible();
  // Without the token, the key alone cannot see the instance.
  const probe = await request.get(`/api/v1/demo/${id}`, { headers: { "X-API-Key": key, Origin: "http://localhost:18080" } });
  expect(probe.status()).toBe(404);
});
