/**
 * The worker's logic on seams (ARCHITECTURE.md, "Testing"): replenish, reconcile, expire, drain,
 * a failed container and the sizing rules, run against the real Redis and its scripts but with an
 * in-memory runtime and route table (lib/runtime/memory.ts, lib/proxy/memory.ts) and a clock that
 * moves only when a test says (lib/clock.ts). Fast and deterministic: a crash between two steps is
 * the state it leaves, written directly; a clock jump is `clock.advance`; a lagging runtime is a
 * start delay. Beside, not instead of, the tests on Docker and Caddy (tests/crash.test.ts,
 * tests/lifecycle.test.ts).
 *
 * What runs on Redis's own clock is not moved by the test's: a worker's lease (a key with a TTL)
 * is made dead by deleting it, and the abuse trail's end time is Redis's TIME; every time of day the
 * product passes to a script (expiry, reservation, readiness) comes from `ctx.clock`.
 */
import { randomBytes } from "node:crypto";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AppSpec, initialSpec } from "../lib/app-spec";
import { mirrorApp, unmirrorApp } from "../lib/apps/mirror";
import { ManualClock } from "../lib/clock";
import { loadConfig } from "../lib/config";
import { type Ctx, createContext } from "../lib/context";
import type { Actor } from "../lib/keys/authenticate";
import { acquire } from "../lib/pool/acquire";
import { MemoryRoutes } from "../lib/proxy/memory";
import { MemoryRuntime } from "../lib/runtime/memory";
import { readPoolLevels } from "../lib/store/pool-levels";
import { reserveScript } from "../lib/store/scripts";
import { drainApp } from "../lib/upkeep/drain";
import { expireDue } from "../lib/upkeep/expire";
import { failInstance } from "../lib/upkeep/fail";
import { reconcile } from "../lib/upkeep/reconcile";
import { Replenisher } from "../lib/upkeep/replenish";
import { backoffMs } from "../lib/upkeep/sizing";
import { waitFor } from "./helpers";
import { TEST_ENV } from "./setup/stack";

const ADMIN: Actor = { kind: "env", keyId: null, label: "API_KEY", scopes: "all", apps: null, origins: [] };
// Its own prefix: nothing here touches the stack the other files share. The bus is a closed port,
// so a cleanup job is never published and the expiring worker cleans up itself (its fallback).
const config = loadConfig({
  ...process.env,
  ...TEST_ENV,
  VALKEY_PREFIX: `tintest-upkeep-${randomBytes(3).toString("hex")}:`,
  NATS_URL: "nats://127.0.0.1:1",
  EGRESS_RULES: "off",
  LOG_LEVEL: "silent",
});

let ctx: Ctx;
let runtime: MemoryRuntime;
let routes: MemoryRoutes;
let clock: ManualClock;
const contexts: Ctx[] = [];

beforeEach(() => {
  runtime = new MemoryRuntime();
  routes = new MemoryRoutes();
  clock = new ManualClock(Date.UTC(2026, 5, 1, 12));
  ctx = createContext(config, "test-upkeep", { runtime, routes, clock });
  contexts.push(ctx);
});

afterEach(async () => {
  await runtime.close();
  const keys = await ctx.redis.keys(`${config.VALKEY_PREFIX}*`);
  if (keys.length) await ctx.redis.del(...keys);
});

afterAll(async () => {
  for (const made of contexts) await made.close();
});

async function appWith(fields: Partial<AppSpec> = {}): Promise<AppSpec> {
  const spec = { ...initialSpec(config, `up-${randomBytes(3).toString("hex")}`), poolMin: 0, poolMax: 10, ...fields };
  await mirrorApp(ctx, spec);
  return spec;
}

const levelsOf = async (app: AppSpec) => (await readPoolLevels(ctx.redis, [ctx.keys.app(app.slug)]))[0];

/** Ticks until nothing is in flight and the pool stops changing. */
async function settle(replenishers: Replenisher[], apps: AppSpec[]) {
  await waitFor(
    "the replenishers to settle",
    async () => {
      await Promise.all(replenishers.map((replenisher) => replenisher.tick(apps)));
      await new Promise((resolve) => setTimeout(resolve, 20));
      return replenishers.every((replenisher) => replenisher.busy === 0);
    },
    10_000,
    0,
  );
}

/** One tick, and its provisions finished (no further tick: a failure's back-off is written by then). */
async function tickOnce(replenisher: Replenisher, apps: AppSpec[]) {
  await replenisher.tick(apps);
  await waitFor("the provisions to end", async () => replenisher.busy === 0, 5_000, 5);
}

const startsIn = (calls: string[]) => calls.filter((call) => call.startsWith("start ")).length;

describe("replenish", () => {
  it("fills an app to its target with ready, routed containers, and no further", async () => {
    const app = await appWith({ poolTarget: 3 });
    const replenisher = new Replenisher(ctx, "w1", 4);
    await ctx.redis.set(ctx.keys.workerLease("w1"), "1");
    await settle([replenisher], [app]);
    const levels = await levelsOf(app);
    expect(levels).toMatchObject({ ready: 3, warming: 0, assigned: 0 });
    expect(runtime.containers.size).toBe(3);
    expect([...routes.routes.keys()].sort()).toEqual([...runtime.containers.keys()].sort());
    await replenisher.tick([app]);
    await replenisher.tick([app]);
    expect(startsIn(runtime.calls)).toBe(3);
  });

  it("never provisions past the target with two workers and a runtime that lags", async () => {
    runtime.startDelayMs = 150;
    const app = await appWith({ poolTarget: 4 });
    const workers = [new Replenisher(ctx, "w1", 8), new Replenisher(ctx, "w2", 8)];
    // Both tick twice while every start is still waiting on the runtime: each launches attempts for
    // what it sees missing, and the reserve script lets exactly four of them through (warming counts).
    await Promise.all(workers.map((worker) => worker.tick([app])));
    await Promise.all(workers.map((worker) => worker.tick([app])));
    await waitFor("the reservations", async () => startsIn(runtime.calls) === 4, 5_000, 5);
    expect(await levelsOf(app)).toMatchObject({ warming: 4, ready: 0 });
    await settle(workers, [app]);
    expect(await levelsOf(app)).toMatchObject({ ready: 4, warming: 0 });
    expect(startsIn(runtime.calls)).toBe(4);
  });

  it("counts assigned demos against the app's maximum", async () => {
    const app = await appWith({ poolTarget: 3, poolMax: 4 });
    const replenisher = new Replenisher(ctx, "w1", 4);
    await settle([replenisher], [app]);
    for (let n = 0; n < 2; n += 1) await acquire(ctx, { app: app.slug, clientIp: "203.0.113.9", actor: ADMIN });
    await settle([replenisher], [app]);
    // 2 assigned + 2 ready: the maximum (4) holds before the target (3 ready) does.
    expect(await levelsOf(app)).toMatchObject({ ready: 2, assigned: 2, warming: 0 });
    expect(runtime.containers.size).toBe(4);
  });

  it("backs off after failures by the context's clock, and starts again once the time has passed", async () => {
    const app = await appWith({ poolTarget: 1 });
    const replenisher = new Replenisher(ctx, "w1", 2);
    runtime.failNextStarts = 2;
    await tickOnce(replenisher, [app]);
    let health = (await levelsOf(app)).health;
    expect(health).toMatchObject({ consecutiveFailures: 1, backoffUntilMs: clock.now() + backoffMs(1) });
    expect(health.lastError).toContain("start refused");
    // The clock has not moved: however often it ticks, nothing starts.
    for (let n = 0; n < 5; n += 1) await replenisher.tick([app]);
    expect(startsIn(runtime.calls)).toBe(1);
    expect(replenisher.backoff()).toEqual([expect.objectContaining({ app: app.slug, failures: 1 })]);

    clock.advance(backoffMs(1) + 1);
    await tickOnce(replenisher, [app]);
    health = (await levelsOf(app)).health;
    expect(health).toMatchObject({ consecutiveFailures: 2, backoffUntilMs: clock.now() + backoffMs(2) });
    clock.advance(backoffMs(2) - 1);
    await replenisher.tick([app]);
    expect(startsIn(runtime.calls)).toBe(2);
    clock.advance(2);
    await settle([replenisher], [app]);
    expect(await levelsOf(app)).toMatchObject({ ready: 1, health: { consecutiveFailures: 0, backoffUntilMs: 0 } });
    expect(startsIn(runtime.calls)).toBe(3);
  });

  it("rolls back a provision whose route cannot be added: no container, no record", async () => {
    const app = await appWith({ poolTarget: 1 });
    const replenisher = new Replenisher(ctx, "w1", 1);
    routes.failNextAdds = 1;
    await tickOnce(replenisher, [app]);
    expect(await levelsOf(app)).toMatchObject({ ready: 0, warming: 0, health: { consecutiveFailures: 1 } });
    expect(runtime.containers.size).toBe(0);
    expect(await ctx.redis.keys(`${ctx.keys.app(app.slug).instPrefix}*`)).toEqual([]);
  });
});

describe("reconcile", () => {
  /** What a worker leaves when it dies after `step`: the reservation, and the container if it got that far. */
  async function crashAfter(app: AppSpec, step: "reserve" | "start", worker: string) {
    const keys = ctx.keys.app(app.slug);
    const id = `crash${randomBytes(4).toString("hex")}`;
    await reserveScript.run(
      ctx.redis,
      { ready: keys.ready, warming: keys.warming, expiry: keys.expiry, inst: keys.inst(id), cfg: keys.cfg },
      { target: 10, max: 10, nowMs: clock.now(), workerId: worker, id },
    );
    await ctx.redis.set(ctx.keys.loc(id), app.slug);
    if (step === "start") await runtime.start(app, id, {}, "net");
    return id;
  }

  it("removes what a dead worker left half-made, and leaves a live worker's provision alone", async () => {
    const app = await appWith({ poolTarget: 0 });
    const dead = [await crashAfter(app, "reserve", "gone"), await crashAfter(app, "start", "gone")];
    await ctx.redis.set(ctx.keys.workerLease("alive"), "1", "PX", 60_000);
    const live = await crashAfter(app, "start", "alive");
    const report = await reconcile(ctx);
    expect(report.abandoned).toBe(2);
    expect([...runtime.containers.keys()]).toEqual([live]);
    for (const id of dead) {
      expect(await ctx.redis.exists(ctx.keys.app(app.slug).inst(id), ctx.keys.loc(id))).toBe(0);
    }
    expect(await levelsOf(app)).toMatchObject({ warming: 1 });
    // The live worker's lease ends (Redis's clock, not the test's: the key goes): now it is abandoned.
    await ctx.redis.del(ctx.keys.workerLease("alive"));
    expect((await reconcile(ctx)).abandoned).toBe(1);
    expect(runtime.containers.size).toBe(0);
  });

  it("restores the routes a restarted proxy lost, removes orphans, and fails an instance whose container vanished", async () => {
    const app = await appWith({ poolTarget: 3 });
    const replenisher = new Replenisher(ctx, "w1", 3);
    await settle([replenisher], [app]);
    const ids = [...runtime.containers.keys()];
    // Readiness is stamped by the context's clock; the reconciler skips what became ready after its listing.
    clock.advance(1000);
    routes.restart();
    await runtime.start(app, "stray", {}, "net"); // a container with no record
    await routes.prepare();
    await routes.add("ghost", 1); // a route with neither
    await runtime.remove(ids[0]); // removed behind the product's back
    const report = await reconcile(ctx);
    expect(report).toMatchObject({ routesRestored: 2, orphanContainers: 1, orphanRoutes: 1, lost: 1 });
    expect([...routes.routes.keys()].sort()).toEqual(ids.slice(1).sort());
    expect([...runtime.containers.keys()].sort()).toEqual(ids.slice(1).sort());
    expect(await levelsOf(app)).toMatchObject({ ready: 2 });
    // Level-triggered: a second pass finds nothing to do.
    expect(Object.values(await reconcile(ctx)).every((count) => count === 0)).toBe(true);
  });

  it("leaves an instance that became ready after its listing alone", async () => {
    const app = await appWith({ poolTarget: 1 });
    const replenisher = new Replenisher(ctx, "w1", 1);
    await settle([replenisher], [app]);
    routes.restart();
    // Same clock reading as the readiness: it may not have been listed yet, so it is not repaired now.
    expect((await reconcile(ctx)).routesRestored).toBe(0);
    clock.advance(1);
    expect((await reconcile(ctx)).routesRestored).toBe(1);
  });
});

describe("expire", () => {
  it("ends a demo when the clock passes its expiry, not a millisecond before, and cleans it up", async () => {
    const app = await appWith({ poolTarget: 2, defaultTtlSeconds: 600 });
    const replenisher = new Replenisher(ctx, "w1", 2);
    await settle([replenisher], [app]);
    const { instance } = await acquire(ctx, { app: app.slug, clientIp: "203.0.113.9", actor: ADMIN });
    expect(instance.expires_at).toBe(new Date(clock.now() + 600_000).toISOString());
    clock.advance(600_000 - 1);
    expect(await expireDue(ctx, app.slug)).toBe(0);
    clock.advance(1);
    expect(await expireDue(ctx, app.slug)).toBe(1);
    expect(runtime.containers.has(instance.id)).toBe(false);
    expect(routes.routes.has(instance.id)).toBe(false);
    expect(await levelsOf(app)).toMatchObject({ assigned: 0, ready: 1 });
    expect(await expireDue(ctx, app.slug)).toBe(0); // each id is returned once
  });

  it("after a clock jump ends every demo due, in batches, each once", async () => {
    const app = await appWith({ poolTarget: 5, defaultTtlSeconds: 60 });
    const replenisher = new Replenisher(ctx, "w1", 5);
    await settle([replenisher], [app]);
    for (let n = 0; n < 5; n += 1) {
      await acquire(ctx, { app: app.slug, clientIp: "203.0.113.9", actor: ADMIN });
      clock.advance(10_000);
    }
    clock.advance(3_600_000);
    const batches = [await expireDue(ctx, app.slug, 2), await expireDue(ctx, app.slug, 2), await expireDue(ctx, app.slug, 2)];
    expect(batches).toEqual([2, 2, 1]);
    expect(runtime.containers.size).toBe(0);
    expect(await levelsOf(app)).toMatchObject({ assigned: 0, ready: 0 });
  });
});

describe("drain and failure", () => {
  it("drains a deleted app: every record, container and route, and the app leaves the set", async () => {
    const app = await appWith({ poolTarget: 3 });
    const replenisher = new Replenisher(ctx, "w1", 3);
    await settle([replenisher], [app]);
    await acquire(ctx, { app: app.slug, clientIp: "203.0.113.9", actor: ADMIN });
    await unmirrorApp(ctx, app.slug);
    expect(await drainApp(ctx, app.slug)).toBe(3);
    expect(runtime.containers.size).toBe(0);
    expect(routes.routes.size).toBe(0);
    expect(await ctx.redis.sismember(ctx.keys.apps, app.slug)).toBe(0);
    expect(await levelsOf(app)).toMatchObject({ ready: 0, warming: 0, assigned: 0 });
  });

  it("takes a container that died out of the pool once, and replenish replaces it", async () => {
    const app = await appWith({ poolTarget: 2 });
    const replenisher = new Replenisher(ctx, "w1", 2);
    await settle([replenisher], [app]);
    const [first] = [...runtime.containers.keys()];
    const heard: string[] = [];
    const stop = runtime.watch((event) => heard.push(`${event.kind} ${event.id}`));
    await runtime.kill(first, "oom");
    stop();
    expect(heard).toEqual([`oom ${first}`]);
    expect(await failInstance(ctx, app.slug, first, "oom")).toBe(true);
    expect(await failInstance(ctx, app.slug, first, "oom")).toBe(false); // its die after our removal changes nothing
    expect(runtime.containers.has(first)).toBe(false);
    expect(routes.routes.has(first)).toBe(false);
    await settle([replenisher], [app]);
    expect(await levelsOf(app)).toMatchObject({ ready: 2 });
    expect(startsIn(runtime.calls)).toBe(3);
  });
});
