import { describe, expect, it } from "vitest";
import { loadConfig } from "../config";
import { AppCreateInput, appDefaults, applyFields, specProblems } from "./model";

const base = { ...appDefaults(loadConfig({})), slug: "demo", name: "Demo", image: "img" };

describe("app settings", () => {
  it("defaults come from the environment and hold together", () => {
    expect(specProblems(base)).toEqual([]);
    expect(base.readOnlyRoot).toBe(true);
  });

  it("reports cross-field problems", () => {
    expect(specProblems(applyFields(base, { pool_min: 5, pool_target: 2 }))).toContain("pool_min may not exceed pool_target");
    expect(specProblems(applyFields(base, { pool_target: 30, pool_max: 10 }))).toContain("pool_target may not exceed pool_max");
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
