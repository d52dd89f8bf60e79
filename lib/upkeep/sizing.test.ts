import { describe, expect, it } from "vitest";
import type { AppSpec } from "../apps/model";
import { backoffMs, warmTarget } from "./sizing";

const app = (poolTarget: number, poolMin: number, poolMax: number) => ({ poolTarget, poolMin, poolMax }) as AppSpec;

describe("sizing", () => {
  it("keeps the target within min and max", () => {
    expect(warmTarget(app(3, 1, 20))).toBe(3);
    expect(warmTarget(app(0, 2, 20))).toBe(2);
    expect(warmTarget(app(50, 0, 10))).toBe(10);
  });

  it("backs off exponentially to a cap", () => {
    expect([0, 1, 2, 3, 10].map(backoffMs)).toEqual([0, 1000, 2000, 4000, 60_000]);
  });
});
