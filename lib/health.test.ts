import { describe, expect, it } from "vitest";
import { evaluateHealth, type HealthInput } from "./health";
import type { WorkerHeartbeat } from "./store/messages";

const NOW = 1_000_000_000;
const ok = { ok: true, latency_ms: 1 };

function beat(fields: Partial<WorkerHeartbeat> = {}): WorkerHeartbeat {
  return {
    id: "w1",
    pid: 1,
    host: "h",
    started_at_ms: NOW - 60_000,
    at_ms: NOW - 500,
    phase: "running",
    waiting_for: null,
    loops: { reap: { every_ms: 1000, done_at_ms: NOW - 400, failing_since_ms: null, error: null } },
    runtime: { ok: true, latency_ms: 2, error: null, live_restore: true, at_ms: NOW - 1000 },
    backoff: [],
    ...fields,
  };
}

function evaluate(fields: Partial<HealthInput>) {
  return evaluateHealth({
    now: NOW,
    leaseMs: 5000,
    downAfterMs: 30_000,
    redisOk: true,
    heartbeats: [],
    givenUp: {},
    checks: { mariadb: ok },
    ...fields,
  });
}

const codes = (result: ReturnType<typeof evaluate>) => result.reasons.map((reason) => reason.code);

describe("evaluateHealth", () => {
  it("is ok with a live worker whose loops complete, and with no worker ever seen", () => {
    expect(evaluate({ heartbeats: [beat()] })).toEqual({ status: "ok", reasons: [] });
    expect(evaluate({ heartbeats: [] }).status).toBe("ok");
  });

  it("is degraded while the last worker is silent, and down past the grace period (a clean stop too)", () => {
    expect(evaluate({ heartbeats: [beat({ at_ms: NOW - 6000 })] })).toMatchObject({
      status: "degraded",
      reasons: [{ code: "NO_WORKER" }],
    });
    expect(evaluate({ heartbeats: [beat({ at_ms: NOW - 31_000 })] })).toMatchObject({
      status: "down",
      reasons: [{ code: "WORKER_DOWN" }],
    });
    expect(evaluate({ heartbeats: [beat({ at_ms: NOW - 31_000, phase: "stopped" })] }).status).toBe("down");
    // One live worker among dead ones: fine.
    expect(evaluate({ heartbeats: [beat({ id: "old", at_ms: NOW - 99_000 }), beat()] }).status).toBe("ok");
  });

  it("names a loop that stopped completing, and one that keeps failing", () => {
    const stalled = beat({
      loops: { replenish: { every_ms: 1000, done_at_ms: NOW - 12_000, failing_since_ms: null, error: null } },
    });
    expect(evaluate({ heartbeats: [stalled] })).toMatchObject({ status: "degraded", reasons: [{ code: "LOOP_STALLED" }] });
    expect(evaluate({ heartbeats: [stalled] }).reasons[0].message).toContain("replenish");
    // A slow loop is judged by its own interval: 3 × 30 s.
    const slow = beat({
      loops: { reconcile: { every_ms: 30_000, done_at_ms: NOW - 60_000, failing_since_ms: null, error: null } },
    });
    expect(evaluate({ heartbeats: [slow] }).status).toBe("ok");
    const failing = beat({
      loops: { jobs: { every_ms: 2000, done_at_ms: NOW - 100, failing_since_ms: NOW - 8000, error: "connection refused" } },
    });
    expect(codes(evaluate({ heartbeats: [failing] }))).toEqual(["LOOP_FAILING"]);
    // The public reason carries no error text.
    expect(evaluate({ heartbeats: [failing] }).reasons[0].message).not.toContain("refused");
    const justFailed = beat({
      loops: { jobs: { every_ms: 2000, done_at_ms: NOW - 100, failing_since_ms: NOW - 1000, error: "x" } },
    });
    expect(evaluate({ heartbeats: [justFailed] }).status).toBe("ok");
  });

  it("reports back-offs, give-ups, a silent runtime, a failed dependency and a starting worker", () => {
    const backoff = beat({ backoff: [{ app: "shop", failures: 3, until_ms: NOW + 4000, error: "pull access denied" }] });
    expect(evaluate({ heartbeats: [backoff] }).reasons).toEqual([{ code: "BACKOFF", message: expect.stringContaining("shop") }]);
    expect(
      evaluate({ heartbeats: [beat({ backoff: [{ app: "shop", failures: 3, until_ms: NOW - 1, error: null }] })] }).status,
    ).toBe("ok");
    const givenUp = { "worker-1": { at_ms: NOW - 1000, starts: 5, last_exit: "exit code 1", log: null } };
    expect(codes(evaluate({ heartbeats: [beat()], givenUp }))).toEqual(["GIVEN_UP"]);
    expect(
      codes(
        evaluate({
          heartbeats: [beat({ runtime: { ok: false, latency_ms: 2000, error: "timeout", live_restore: true, at_ms: NOW } })],
        }),
      ),
    ).toEqual(["DEPENDENCY"]);
    expect(codes(evaluate({ heartbeats: [beat()], checks: { nats: { ok: false, latency_ms: 2000 } } }))).toEqual(["DEPENDENCY"]);
    expect(codes(evaluate({ heartbeats: [beat({ phase: "starting", waiting_for: "the apps (MariaDB)", loops: {} })] }))).toEqual([
      "WORKER_STARTING",
    ]);
  });

  it("is unhealthy without Redis, whatever else holds", () => {
    expect(evaluate({ redisOk: false, heartbeats: [beat()] })).toMatchObject({
      status: "unhealthy",
      reasons: [{ code: "REDIS" }],
    });
  });
});
