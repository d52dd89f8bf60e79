/**
 * The embed, as a visitor feels it (warm pool, Chromium, through Caddy): click → the demo's page
 * loaded in the new tab, and the widget's own share (click → instance URL known), p50/p95 over 20
 * clicks; baseline in the same run: a new tab navigated straight to an already-acquired instance
 * URL. The widget's share includes opening the tab inside the click (Chromium creates it
 * synchronously, and the automation attaches to it); the acquire request's own time is shown beside
 * it. Also the script's size, raw and gzipped.
 */
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { chromium } from "@playwright/test";
import { createApp } from "../lib/apps/create";
import { removeApp } from "../lib/apps/remove";
import { cliCaller } from "../lib/audit/model";
import { createContext } from "../lib/context";
import { EMBED_BUNDLE } from "../lib/embed/asset";
import {
  BENCH_ENV,
  benchConfig,
  caddyUp,
  percentile,
  purgeBusStreams,
  report,
  spawnLogged,
  startBenchCaddy,
  waitFor,
} from "./common";

const CLICKS = 20;
const APP = `embed-${Date.now().toString(36)}`;
const WEB = `http://localhost:${BENCH_ENV.PORT}`;
const config = benchConfig();
const ctx = createContext(config, "bench");
const caller = cliCaller("npm run bench");

const stats = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: sorted.length,
    "p50 ms": Math.round(percentile(sorted, 50)),
    "p95 ms": Math.round(percentile(sorted, 95)),
    "max ms": Math.round(sorted[sorted.length - 1]),
  };
};

async function ready(): Promise<number> {
  return ctx.redis.llen(ctx.keys.app(APP).ready);
}

async function release(id: string): Promise<void> {
  await fetch(`${WEB}/api/v1/demo/${id}`, { method: "DELETE", headers: { "X-API-Key": config.API_KEY } });
}

async function main() {
  const body = readFileSync(EMBED_BUNDLE);
  const caddy = startBenchCaddy();
  await waitFor("bench caddy", caddyUp, 20_000);
  // One browser on one address loads the launch page 40 times a minute here: the challenge limit
  // per address (CHALLENGE_RATE_PER_MINUTE, 30) is for people, so it is lifted for this web.
  const web = spawnLogged("web", process.execPath, [".next/tin-server.mjs"], { CHALLENGE_RATE_PER_MINUTE: "100000" });
  await purgeBusStreams();
  const worker = spawnLogged("worker", process.execPath, ["--import", "tsx", "worker/index.ts"]);
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
  });
  try {
    await waitFor("web", async () => (await fetch(`${WEB}/health`)).status === 200);
    await createApp(
      ctx,
      { slug: APP, image: "tryitnow/hello:latest", pool_target: 4, pool_min: 0, pool_max: 40, launch_page: true },
      caller,
    );
    await waitFor("4 ready", async () => (await ready()) >= 4, 60_000);

    const context = await browser.newContext();
    const page = await context.newPage();
    const clickToPage: number[] = [];
    const clickToUrl: number[] = [];
    const acquireRequest: number[] = [];
    const tabOpening: number[] = [];
    const ownShare: number[] = [];
    const checking: number[] = [];
    for (let i = 0; i < CLICKS; i += 1) {
      await waitFor("a ready instance", async () => (await ready()) >= 2, 30_000);
      await page.goto(`${WEB}/try/${APP}`);
      await page.evaluate(() => {
        localStorage.clear();
        const marks = window as unknown as { t0?: number; t1?: number };
        document.addEventListener("click", () => (marks.t0 = performance.now()), { capture: true, once: true });
        document.addEventListener("tryitnow:acquired", () => (marks.t1 = performance.now()), { once: true });
      });
      const button = page.getByRole("button", { name: "Try it now" });
      await button.waitFor();
      // The visitor reads the page while the browser check runs (the app's gate is on by default):
      // the click comes once it is done, and how long it took is a figure of its own.
      await page.waitForFunction(() => performance.getEntriesByName("tryitnow:checked").length > 0, undefined, {
        timeout: 30_000,
      });
      checking.push(await page.evaluate(() => performance.getEntriesByName("tryitnow:checked")[0].startTime));
      const started = performance.now();
      const [tab] = await Promise.all([context.waitForEvent("page"), button.click()]);
      await tab.waitForURL(/^http:\/\/[a-z2-7]{20}\.localhost:/, { waitUntil: "load" });
      clickToPage.push(performance.now() - started);
      const [share, request, opening] = await page.evaluate(() => {
        const marks = window as unknown as { t0: number; t1: number };
        const entry = performance
          .getEntriesByType("resource")
          .find((e) => e.name.endsWith("/api/v1/demo/acquire")) as PerformanceResourceTiming;
        const [tab] = performance.getEntriesByName("tryitnow:tab");
        const [click] = performance.getEntriesByName("tryitnow:click");
        return [
          marks.t1 - marks.t0,
          entry ? entry.responseEnd - entry.startTime : Number.NaN,
          tab && click ? tab.startTime - click.startTime : Number.NaN,
        ];
      });
      clickToUrl.push(share);
      acquireRequest.push(request);
      tabOpening.push(opening);
      ownShare.push(share - opening);
      await release(new URL(tab.url()).hostname.split(".")[0]);
      await tab.close();
    }

    const baseline: number[] = [];
    for (let i = 0; i < CLICKS; i += 1) {
      await waitFor("a ready instance", async () => (await ready()) >= 2, 30_000);
      const acquired = await fetch(`${WEB}/api/v1/demo/acquire`, {
        method: "POST",
        headers: { "content-type": "application/json", "X-API-Key": config.API_KEY },
        body: JSON.stringify({ app: APP }),
      });
      const instance = (await acquired.json()) as { id: string; url: string };
      const tab = await context.newPage();
      const started = performance.now();
      await tab.goto(instance.url, { waitUntil: "load" });
      baseline.push(performance.now() - started);
      await release(instance.id);
      await tab.close();
    }
    await context.close();

    const rows = [
      { target: "widget: click → demo page loaded in the new tab", ...stats(clickToPage) },
      { target: "widget's share: click → instance URL known", ...stats(clickToUrl) },
      { target: "  of which: window.open() of the tab (browser, blocking)", ...stats(tabOpening) },
      { target: "  the rest: the widget's own code and its request", ...stats(ownShare) },
      { target: "  the acquire request (resource timing, overlaps the tab)", ...stats(acquireRequest) },
      { target: "baseline: new tab straight to an acquired URL", ...stats(baseline) },
      { target: "browser check before the click: page start → answer ready (gate_difficulty 100000)", ...stats(checking) },
    ];
    report("embed: click to demo", rows, {
      rows,
      size: { bytes: body.length, gzip_bytes: gzipSync(body, { level: 9 }).length, budget_gzip_bytes: 8192 },
    });
    console.log(`embed.js: ${body.length} bytes, ${gzipSync(body, { level: 9 }).length} gzipped (budget 8192)`);
  } finally {
    await browser.close();
    await removeApp(ctx, APP, caller).catch(() => undefined);
    await waitFor("drained", async () => (await ctx.runtime.list()).every((container) => container.app !== APP), 30_000).catch(
      () => undefined,
    );
    await worker.stop();
    await web.stop();
    await caddy.stop();
    await ctx.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
