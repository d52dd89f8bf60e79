import { describe, expect, it } from "vitest";
import { afterExit, RESTART_POLICY } from "./policy";

describe("restart policy", () => {
  it("backs off while starts keep failing, then gives up", () => {
    let failed = 0;
    const delays: number[] = [];
    for (;;) {
      const decision = afterExit(200, failed);
      if (decision.action === "give-up") {
        expect(decision.failedStarts).toBe(RESTART_POLICY.giveUpAfter);
        break;
      }
      delays.push(decision.delayMs);
      failed = decision.failedStarts;
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000]);
  });

  it("restarts after a second, with a fresh count, a process that ran long enough", () => {
    expect(afterExit(RESTART_POLICY.stableMs + 1, 4)).toEqual({ action: "restart", delayMs: 1000, failedStarts: 0 });
  });

  it("caps the delay", () => {
    expect(afterExit(10, 8, { ...RESTART_POLICY, giveUpAfter: 100 })).toEqual({
      action: "restart",
      delayMs: 30_000,
      failedStarts: 9,
    });
  });
});
