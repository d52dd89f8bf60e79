import { readdirSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { FALLBACKS, ROUTES, type RouteEntry } from "./routes";

const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/** Route files that are not ours to tag: next-auth's own handler, and the embed's static files. */
const UNTAGGED = new Set([
  "app/api/auth/[...nextauth]/route.ts",
  "app/embed.js/route.ts",
  "app/embed-gate.js/route.ts",
  "app/embed/[file]/route.ts",
]);

/** `app/api/v1/apps/[slug]/route.ts` → `/api/v1/apps/:slug`. */
function pathOf(file: string): string {
  const path = file
    .replace(/^app/, "")
    .replace(/\/route\.ts$/, "")
    .replace(/\[([^\]]+)\]/g, ":$1");
  return path || "/";
}

interface Served {
  file: string;
  method: string;
  route: string | undefined;
}

async function servedHandlers(): Promise<Served[]> {
  const served: Served[] = [];
  const files = readdirSync("app", { recursive: true, encoding: "utf8" }).filter(
    (name) => name === "route.ts" || name.endsWith("/route.ts"),
  );
  for (const file of files.map((name) => `app/${name}`).sort()) {
    if (UNTAGGED.has(file)) continue;
    const module = (await import(/* @vite-ignore */ resolve(file))) as Record<string, unknown>;
    for (const method of METHODS) {
      const handler = module[method] as { route?: string } | undefined;
      if (handler) served.push({ file, method, route: handler.route });
    }
  }
  return served;
}

describe("the route table", () => {
  it("has an entry for every handler a route file exports, at that method and path, and no entry without one", async () => {
    const served = await servedHandlers();
    expect(served.length).toBeGreaterThan(Object.keys(ROUTES).length);
    const seen = new Set<string>();
    for (const { file, method, route } of served) {
      expect(route, `${method} in ${file} is not a withRoute handler`).toBeTypeOf("string");
      if ((FALLBACKS as readonly string[]).includes(route as string)) continue;
      const entry: RouteEntry | undefined = (ROUTES as Record<string, RouteEntry>)[route as string];
      expect(entry, `${method} ${file} serves "${route}", which the table lacks`).toBeDefined();
      expect({ method: entry?.method, path: entry?.path }, `${file} ${method}`).toEqual({ method, path: pathOf(file) });
      expect(seen.has(route as string), `"${route}" is served twice`).toBe(false);
      seen.add(route as string);
    }
    expect([...seen].sort()).toEqual(Object.keys(ROUTES).sort());
  }, 30_000); // imports every route module: seconds on a loaded 2-core machine

  it("keeps the dashboard's API on sessions and the public API on keys", () => {
    for (const [name, entry] of Object.entries(ROUTES) as [string, RouteEntry][]) {
      const session = typeof entry.auth === "object" && "session" in entry.auth;
      expect(session, name).toBe(entry.path.startsWith("/admin/api/"));
      if (entry.path.startsWith("/api/v1/")) expect(entry.auth, name).not.toBe("public");
    }
  });
});
