import { readdirSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { Dispatcher, type RouteModule } from "./dispatch";

/** `app/api/v1/apps/[slug]/route.ts` → `/api/v1/apps/:slug`. */
const pathOf = (file: string) =>
  file
    .replace(/^app/, "")
    .replace(/\/route\.ts$/, "")
    .replace(/\[([^\]]+)\]/g, ":$1");

/** What the fast path must serve: the public API, /health, /metrics and the widget's scripts. */
const FAST = /^\/(api\/v1\/|health$|metrics$|embed(\.js$|-gate\.js$|\/))/;

const handler = (name: string) => Object.assign(async () => new Response(name), { label: name });
const module = (...methods: string[]): RouteModule => Object.fromEntries(methods.map((method) => [method, handler(method)]));

describe("the fast path's dispatch", () => {
  it("lists every route file under the paths it serves, at its own path", async () => {
    const { ROUTE_FILES } = await import("../../app/route-files");
    const files = readdirSync("app", { recursive: true, encoding: "utf8" })
      .filter((name) => name === "route.ts" || name.endsWith("/route.ts"))
      .map((name) => `app/${name}`)
      .filter((file) => FAST.test(pathOf(file)) && !file.includes("[..."));
    expect(files.length).toBeGreaterThan(20);
    expect(ROUTE_FILES.map((entry) => entry.path).sort()).toEqual(files.map(pathOf).sort());
    for (const file of files) {
      const imported = (await import(/* @vite-ignore */ resolve(file))) as RouteModule;
      const listed = ROUTE_FILES.find((entry) => entry.path === pathOf(file));
      expect(Object.keys(listed?.module ?? {}).sort(), file).toEqual(Object.keys(imported).sort());
      for (const [name, value] of Object.entries(imported)) expect(listed?.module[name], `${file} ${name}`).toBe(value);
    }
  }, 30_000); // imports every route module: seconds on a loaded 2-core machine

  const acquire = module("POST", "GET");
  const demo = module("GET", "DELETE", "OPTIONS");
  const extend = module("POST");
  const unknown = module("GET", "POST", "DELETE", "PATCH", "PUT", "OPTIONS");
  const dispatcher = new Dispatcher(
    [
      { path: "/api/v1/demo/:id", module: demo },
      { path: "/api/v1/demo/:id/extend", module: extend },
      { path: "/api/v1/demo/acquire", module: acquire },
      { path: "/health", module: module("GET") },
    ],
    { prefix: "/api/v1/", module: unknown },
  );

  it("prefers a static path to a pattern and decodes params", () => {
    expect(dispatcher.match("POST", "/api/v1/demo/acquire")?.handler).toBe(acquire.POST);
    expect(dispatcher.match("GET", "/api/v1/demo/acquire")?.handler).toBe(acquire.GET);
    const got = dispatcher.match("GET", "/api/v1/demo/abc%20d");
    expect(got?.handler).toBe(demo.GET);
    expect(got?.params).toEqual({ id: "abc d" });
    expect(dispatcher.match("POST", "/api/v1/demo/x1/extend")).toEqual({ handler: extend.POST, params: { id: "x1" } });
    expect(dispatcher.match("OPTIONS", "/api/v1/demo/x1")?.handler).toBe(demo.OPTIONS);
  });

  it("leaves to Next.js what Next.js answers its own way", () => {
    // A method the file does not export (Next.js's 405), HEAD (answered from GET), a static file's other methods.
    expect(dispatcher.match("POST", "/api/v1/demo/x1")).toBeNull();
    expect(dispatcher.match("HEAD", "/health")).toBeNull();
    expect(dispatcher.match("DELETE", "/api/v1/demo/acquire")).toBeNull();
    // Paths Next.js normalises or redirects, and malformed percent-encoding.
    for (const path of [
      "/api/v1/demo/x1/",
      "/api/v1//demo/x1",
      "/api/v1/demo/./x1",
      "/api/v1/demo/../demo/x1",
      "/api/v1/demo/a%2Fb",
      "/api/v1/demo/a%5cb",
      "/api/v1/demo/%E0%A4%A",
    ])
      expect(dispatcher.match("GET", path), path).toBeNull();
    // Pages, the dashboard, next-auth.
    for (const path of ["/", "/try/default", "/admin", "/admin/api/overview", "/api/auth/session"])
      expect(dispatcher.match("GET", path), path).toBeNull();
  });

  it("answers other clean paths under the API's prefix from the catch-all", () => {
    expect(dispatcher.match("GET", "/api/v1/nothing/here")?.handler).toBe(unknown.GET);
    expect(dispatcher.match("GET", "/api/v1/demo/x1/extend")?.handler).toBeUndefined();
    expect(dispatcher.match("GET", "/api/v1/demo/x1/extend")).toBeNull();
  });
});
