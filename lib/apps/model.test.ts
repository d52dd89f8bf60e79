import { describe, expect, it } from "vitest";
import { APP_FIELDS, FIELD_NAMES, initialSpec } from "../app-spec";
import { loadConfig } from "../config";
import { apps } from "../db/schema";
import { envChanges } from "./ensure-default";
import { AppCreateInput, AppPatchInput, applyFields, appView, ENV_MASK, specProblems } from "./model";

const config = loadConfig({});
const base = { ...initialSpec(config, "demo"), image: "img" };

describe("app settings", () => {
  it("defaults come from the environment and hold together", () => {
    expect(specProblems(base)).toEqual([]);
    expect(base).toMatchObject({
      name: "demo",
      readOnlyRoot: true,
      containerPort: config.CONTAINER_PORT,
      poolTarget: config.POOL_TARGET_SIZE,
    });
    expect(initialSpec(loadConfig({ POOL_DEFAULT_TTL: "45m", CONTAINER_CPUS: "1.5" }), "x")).toMatchObject({
      defaultTtlSeconds: 2700,
      cpuMillis: 1500,
    });
  });

  it("reports cross-field problems", () => {
    expect(specProblems(applyFields(base, { pool_min: 5, pool_target: 2 }))).toContainEqual({
      path: "pool_min",
      message: "pool_min may not exceed pool_target",
    });
    expect(specProblems(applyFields(base, { pool_target: 30, pool_max: 10 }))).toContainEqual({
      path: "pool_target",
      message: "pool_target may not exceed pool_max",
    });
  });

  it("validates slugs, capabilities and env names", () => {
    expect(AppCreateInput.safeParse({ slug: "ok-slug", image: "a/b:c" }).success).toBe(true);
    for (const slug of ["Bad", "-x", "x-", "a".repeat(33), "a_b", "../x"]) {
      expect(AppCreateInput.safeParse({ slug, image: "a" }).success, slug).toBe(false);
    }
    expect(AppCreateInput.safeParse({ slug: "x", image: "a", cap_add: ["SYS_ADMIN"] }).success).toBe(false);
    expect(AppCreateInput.safeParse({ slug: "x", image: "a", env: { "BAD-NAME": "1" } }).success).toBe(false);
  });
});

describe("the field table", () => {
  it("gives every field one API name and one column, all of them in the table of apps", () => {
    const apiNames = FIELD_NAMES.map((name) => APP_FIELDS[name].api);
    expect(new Set(apiNames).size).toBe(FIELD_NAMES.length);
    for (const name of FIELD_NAMES) expect(apps[name], name).toBeDefined();
    // The API accepts exactly the table's fields (and nothing else: strict).
    expect(Object.keys(AppPatchInput.shape).sort()).toEqual([...apiNames].sort());
    expect(AppPatchInput.safeParse({ surprise: 1 }).success).toBe(false);
  });

  it("maps spec ↔ API both ways without loss, cpus through millis", () => {
    const spec = applyFields(base, { cpus: 0.25, env: { A: "1" }, cap_add: ["CHOWN"], rate_limit_daily: 7 });
    expect(spec).toMatchObject({ cpuMillis: 250, env: { A: "1" }, capAdd: ["CHOWN"], rateLimitDaily: 7 });
    const view = appView(spec);
    expect(view).toMatchObject({ slug: "demo", cpus: 0.25, cap_add: ["CHOWN"], rate_limit_daily: 7 });
    // Env values are write-only: the view names them with the mask, and the mask sent back keeps them.
    expect(view.env).toEqual({ A: ENV_MASK });
    const { slug: _slug, created_at: _c, updated_at: _u, env: _env, ...fields } = view;
    expect(applyFields(initialSpec(config, "demo"), AppPatchInput.parse(fields))).toEqual({ ...spec, env: {} });
    expect(applyFields(spec, AppPatchInput.parse({ ...fields, env: view.env }))).toEqual(spec);
  });
});

describe("the environment and the app default", () => {
  it("applies every seeded variable when nothing was recorded, and only changed ones after", () => {
    const all = envChanges(config, null).map((change) => change.variable);
    expect(all).toEqual(expect.arrayContaining(["CONTAINER_IMAGE", "CONTAINER_PORT", "POOL_TARGET_SIZE", "POOL_MAX_TTL"]));
    const applied = Object.fromEntries(envChanges(config, null).map((change) => [change.field, change.value]));
    expect(envChanges(config, applied)).toEqual([]);
    const changed = loadConfig({ HEALTH_PATH: "/ready", POOL_DEFAULT_TTL: "45m" });
    expect(envChanges(changed, applied)).toEqual([
      { field: "healthPath", variable: "HEALTH_PATH", value: "/ready" },
      { field: "defaultTtlSeconds", variable: "POOL_DEFAULT_TTL", value: 2700 },
    ]);
  });
});
