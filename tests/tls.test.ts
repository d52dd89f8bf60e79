/**
 * The production set-up over https (docs/production.md): a CA and a wildcard certificate made with
 * openssl for `demo.localhost` and `*.demo.localhost`, the bundled Caddy serving the web host and the
 * instance hosts on TLS with them (PROXY_TLS_CERT, PROXY_TLS_KEY), its plain-HTTP port redirecting
 * to https and taking the containers' conversion calls, a renewed certificate picked up without a
 * restart; Node clients trusting the CA through NODE_EXTRA_CA_CERTS, and Chromium clicking the launch
 * page's button and watching the demo load over https with its countdown running.
 */
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import http from "node:http";
import { chromium, type Page } from "@playwright/test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execIn } from "./helpers";
import { docker, waitFor } from "./setup/stack";
import { supervisedStack } from "./setup/supervised";
import { makeCertificates } from "./setup/tls";

const PROXY_PORT = 18121;
const HTTP_PORT = 18122;
const DOMAIN = "demo.localhost";
const PUBLIC = `https://${DOMAIN}:${PROXY_PORT}`;
const CERTS = ".data/test-tls/certs";
rmSync(CERTS, { recursive: true, force: true });
const certs = makeCertificates(CERTS, DOMAIN);

const stack = supervisedStack({
  name: "tls",
  port: 18120,
  proxyPort: PROXY_PORT,
  caddyAdmin: "127.0.0.1:12099",
  prefix: "tintls:",
  network: "tin-tls-net",
  env: {
    PUBLIC_URL: PUBLIC,
    PUBLIC_SCHEME: "https",
    BASE_DOMAIN: DOMAIN,
    PROXY_TLS_CERT: certs.certificate,
    PROXY_TLS_KEY: certs.key,
    PROXY_HTTP_PORT: String(HTTP_PORT),
    WEB_PROCESSES: "1",
    POOL_TARGET_SIZE: "0",
  },
});

interface Answer {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  issuer?: string | null;
  error?: string;
  code?: string | null;
}

/** One request by a Node client in a process of its own; `trust`: the CA in NODE_EXTRA_CA_CERTS. */
function nodeClient(
  method: string,
  url: string,
  options: { headers?: Record<string, string>; body?: string; trust?: boolean } = {},
): Answer {
  const { NODE_EXTRA_CA_CERTS: _inherited, ...env } = process.env;
  const run = spawnSync(
    process.execPath,
    [
      "--import",
      "tsx",
      "tests/setup/https-client.ts",
      method,
      url,
      JSON.stringify(options.headers ?? {}),
      ...(options.body ? [options.body] : []),
    ],
    { env: options.trust === false ? env : { ...env, NODE_EXTRA_CA_CERTS: certs.ca }, encoding: "utf8", timeout: 30_000 },
  );
  return JSON.parse(run.stdout.trim().split("\n").pop() || `{"error":${JSON.stringify(run.stderr)}}`);
}

const api = (method: string, path: string, body?: unknown) =>
  nodeClient(method, `${PUBLIC}${path}`, {
    headers: { "X-API-Key": stack.env.API_KEY, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

/** Whether the proxy holds one route per live instance and its config has not changed for 2 s. */
let lastRoutes = { json: "", sinceMs: 0 };
async function routesSettled(): Promise<boolean> {
  const json = await fetch("http://127.0.0.1:12099/id/tin-instances/routes")
    .then((response) => response.text())
    .catch(() => "");
  if (json !== lastRoutes.json) lastRoutes = { json, sinceMs: Date.now() };
  const routes = (JSON.parse(json || "[]") as unknown[]).length;
  return routes === 3 && Date.now() - lastRoutes.sinceMs >= 2000;
}

/** A navigation, again (at most twice more) when Chromium dropped it because the host's network changed. */
async function gotoSteadily(page: Page, url: string) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await page.goto(url);
    } catch (error) {
      const dropped = /ERR_NETWORK_CHANGED|chrome-error:\/\//.test((error as Error).message);
      if (!dropped || attempt >= 3) throw error;
    }
  }
}

/** A plain-HTTP GET to the proxy's redirect port with a Host of our choosing (fetch may not set Host). */
function plainGet(path: string, host: string): Promise<{ status: number; location: string | undefined }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port: HTTP_PORT, path, headers: { host }, agent: false }, (response) => {
        response.resume();
        resolve({ status: response.statusCode ?? 0, location: response.headers.location });
      })
      .on("error", reject);
  });
}

const readyOf = async (slug: string) =>
  ((await stack.api("/api/v1/pool/stats")).json?.apps ?? []).find((app: { app: string }) => app.app === slug)?.ready ?? 0;

beforeAll(async () => {
  await stack.start();
  const created = await stack.api("/api/v1/apps", {
    method: "POST",
    body: JSON.stringify({
      slug: "secure",
      image: "tryitnow/hello:latest",
      health_path: "/",
      pool_target: 3,
      pool_min: 0,
      pool_max: 6,
      launch_page: true,
      api_access: true,
      bot_gate: "none",
    }),
  });
  expect(created.status, created.text).toBe(201);
  await waitFor("a warm pool", async () => (await readyOf("secure")) >= 3, 120_000, 250);
}, 240_000);

afterAll(async () => {
  await stack.stop();
});

describe("over https through the bundled proxy", () => {
  it("serves the web host and an instance host with the operator's certificate; a client that does not trust the CA is refused", async () => {
    const health = nodeClient("GET", `${PUBLIC}/health`);
    expect(health.error).toBeUndefined();
    expect(health.status).toBe(200);
    expect(health.issuer).toBe("Try It Now test CA");
    expect(health.headers?.["strict-transport-security"]).toBe("max-age=31536000");

    const acquired = api("POST", "/api/v1/demo/acquire", { app: "secure" });
    expect(acquired.status, acquired.body).toBe(200);
    const demo = JSON.parse(acquired.body!) as { id: string; url: string };
    expect(demo.url).toBe(`https://${demo.id}.${DOMAIN}:${PROXY_PORT}`);
    const page = nodeClient("GET", demo.url);
    expect(page.status).toBe(200);
    expect(page.issuer).toBe("Try It Now test CA");
    expect(page.body).toContain("Hello from Try It Now");

    const untrusted = nodeClient("GET", demo.url, { trust: false });
    expect(untrusted.status).toBeUndefined();
    expect(untrusted.code).toBe("UNABLE_TO_VERIFY_LEAF_SIGNATURE");
    expect(api("DELETE", `/api/v1/demo/${demo.id}`).status).toBe(200);
  });

  it("the plain-HTTP port redirects to https, and passes a container's conversion call (TRYIT_API_URL) to the web", async () => {
    const redirect = await plainGet("/try/secure?from=mail", `${DOMAIN}:${HTTP_PORT}`);
    expect(redirect).toEqual({ status: 308, location: `${PUBLIC}/try/secure?from=mail` });
    const instanceHost = await plainGet("/", `abcdefghijklmnopqrst.${DOMAIN}`);
    expect(instanceHost).toEqual({ status: 308, location: `https://abcdefghijklmnopqrst.${DOMAIN}:${PROXY_PORT}/` });
    // A name the proxy does not serve is not redirected anywhere.
    expect(await plainGet("/login", "elsewhere.example")).toEqual({ status: 404, location: undefined });

    const acquired = api("POST", "/api/v1/demo/acquire", { app: "secure" });
    expect(acquired.status, acquired.body).toBe(200);
    const demo = JSON.parse(acquired.body!) as { id: string };
    const [container] = await docker.listContainers({ filters: { label: [`tryitnow.instance=${demo.id}`] } });
    const inspected = await docker.getContainer(container.Id).inspect();
    const gateway = inspected.NetworkSettings.Networks["tin-tls-net"].Gateway;
    expect(inspected.Config.Env).toContain(`TRYIT_API_URL=http://${gateway}:${HTTP_PORT}`);
    const converted = await execIn(
      container.Id,
      `wget -q -S -O - --header "X-Conversion-Token: $TRYIT_CONVERT_TOKEN" --header 'Content-Type: application/json' --post-data '{"label":"signup"}' "$TRYIT_API_URL/api/v1/demo/$TRYIT_INSTANCE_ID/convert" 2>&1 | head -c 2000`,
    );
    expect(converted.output).toMatch(/202 Accepted/);
    // Nothing else of the API on that port: a key there is only ever redirected, never answered.
    expect((await plainGet("/api/v1/pool/stats", DOMAIN)).status).toBe(308);
    expect(api("DELETE", `/api/v1/demo/${demo.id}`).status).toBe(200);
  });

  it("Chromium presses the launch page's button and the demo loads over https with its countdown running", async () => {
    const browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        // Trusts this one certificate's key and nothing else (Chromium's system store is not ours to change).
        `--ignore-certificate-errors-spki-list=${certs.spki}`,
      ],
    });
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      // Chromium drops a load when an interface appears or goes (a container's veth, while the pool
      // refills or a released demo's container is removed after the tests before): the pool full
      // first, and a page whose load or widget script was dropped all the same loaded again, as a
      // visitor would reload it.
      await waitFor("a full pool before the browser", async () => (await readyOf("secure")) >= 3, 60_000, 250);
      // Every route change is a config reload, which on TLS restarts the listener under the page's
      // connections: the proxy's routes settled first (the tests before released demos).
      await waitFor("the proxy's routes settled", routesSettled, 60_000, 250);
      const button = page.getByRole("button", { name: "Try it now" });
      const shown = () =>
        button.waitFor({ state: "visible", timeout: 10_000 }).then(
          () => true,
          () => false,
        );
      let launch = await gotoSteadily(page, `${PUBLIC}/try/secure`);
      for (let attempt = 1; attempt < 3 && !(await shown()); attempt += 1)
        launch = await gotoSteadily(page, `${PUBLIC}/try/secure`);
      expect(launch?.status()).toBe(200);
      expect((await launch?.securityDetails())?.issuer).toBe("Try It Now test CA");
      await button.click();
      const link = page.getByTestId("instance-url");
      await expect
        .poll(() => link.getAttribute("href"), { timeout: 20_000 })
        .toMatch(/^https:\/\/[a-z2-7]{20}\.demo\.localhost:18121$/);
      const url = (await link.getAttribute("href"))!;
      const id = new URL(url).hostname.split(".")[0];
      const ttl = page.getByTestId("ttl");
      await expect.poll(() => ttl.textContent(), { timeout: 10_000 }).toMatch(/^\d+:\d\d$/);
      const first = await ttl.textContent();
      await expect.poll(() => ttl.textContent(), { timeout: 5_000 }).not.toBe(first); // the countdown moves

      const [appPage] = await Promise.all([context.waitForEvent("page"), link.click()]);
      await appPage.waitForLoadState();
      // The acquire's refill creates a container while this tab loads: a dropped load is loaded again.
      if (appPage.url().startsWith("chrome-error://")) await gotoSteadily(appPage, `${url}/`);
      expect(appPage.url()).toBe(`${url}/`);
      await expect.poll(() => appPage.locator("#instance").textContent(), { timeout: 10_000 }).toBe(id);
      await appPage.screenshot({ path: ".data/test-tls/demo.png" });
      await page.screenshot({ path: ".data/test-tls/launch.png" });
      expect(api("DELETE", `/api/v1/demo/${id}`).status).toBe(200);
    } finally {
      await browser.close();
    }
  });

  it("a renewed certificate in the same files is served within a reconcile, without a restart", async () => {
    const before = nodeClient("GET", `${PUBLIC}/health`);
    const renewed = makeCertificates(CERTS, DOMAIN, "renewed");
    spawnSync("cp", [renewed.certificate, certs.certificate]);
    spawnSync("cp", [renewed.key, certs.key]);
    const fingerprint = () =>
      spawnSync(
        "bash",
        [
          "-c",
          `openssl s_client -connect 127.0.0.1:${PROXY_PORT} -servername ${DOMAIN} </dev/null 2>/dev/null | openssl x509 -noout -pubkey`,
        ],
        {
          encoding: "utf8",
        },
      ).stdout;
    const wanted = spawnSync("openssl", ["x509", "-in", renewed.certificate, "-noout", "-pubkey"], { encoding: "utf8" }).stdout;
    expect(wanted).toContain("BEGIN PUBLIC KEY");
    await waitFor("the renewed certificate served", async () => fingerprint() === wanted, 30_000, 500);
    const after = nodeClient("GET", `${PUBLIC}/health`);
    expect(before.status).toBe(200);
    expect(after.status).toBe(200);
  });
});
