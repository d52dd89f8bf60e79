import { hostname } from "node:os";
import type { Ctx } from "../lib/context";
import { type LoopReport, parseJson, WorkerHeartbeat } from "../lib/store/messages";
import { execPipeline } from "../lib/store/pipeline";

/** Heartbeats of workers silent for longer than this are dropped from the hash (their history is in the logs). */
const FORGET_AFTER_MS = 24 * 3600_000;
const RUNTIME_TIMEOUT_MS = 2000;
/** `docker info` is heavier than a ping: live-restore is read again at most this often. */
const LIVE_RESTORE_EVERY_MS = 30_000;

/**
 * What a worker tells the web processes about itself (ARCHITECTURE.md, "Supervision"): its lease,
 * and beside it, in the same round trip, its loops, the container runtime's health (the web holds
 * no Docker socket) and the apps whose replenish backs off.
 */
export class Heartbeat {
  private readonly startedAtMs: number;
  private phase: WorkerHeartbeat["phase"] = "starting";
  private waitingFor: string | null = "its dependencies";
  private runtime: WorkerHeartbeat["runtime"] = null;
  private liveRestore = { value: false, atMs: 0 };
  private loops: () => Record<string, LoopReport> = () => ({});
  private backoff: () => WorkerHeartbeat["backoff"] = () => [];
  private beats = 0;

  constructor(
    private readonly ctx: Ctx,
    readonly workerId: string,
  ) {
    this.startedAtMs = ctx.clock.now();
  }

  waiting(what: string | null): void {
    this.waitingFor = what;
  }

  running(loops: () => Record<string, LoopReport>, backoff: () => WorkerHeartbeat["backoff"]): void {
    this.phase = "running";
    this.waitingFor = null;
    this.loops = loops;
    this.backoff = backoff;
  }

  private report(): WorkerHeartbeat {
    return {
      id: this.workerId,
      pid: process.pid,
      host: hostname(),
      started_at_ms: this.startedAtMs,
      at_ms: this.ctx.clock.now(),
      phase: this.phase,
      waiting_for: this.waitingFor,
      loops: this.loops(),
      runtime: this.runtime,
      backoff: this.backoff(),
    };
  }

  /** The lease and the report, one pipeline; now and then, heartbeats of long-gone workers are forgotten. */
  async beat(): Promise<void> {
    const { redis, keys, config } = this.ctx;
    const pipeline = redis
      .pipeline()
      .set(keys.workerLease(this.workerId), "1", "PX", config.WORKER_LEASE)
      .hset(keys.heartbeats, this.workerId, JSON.stringify(this.report()));
    await execPipeline(pipeline);
    this.beats += 1;
    if (this.beats % 100 === 1) await this.forgetOld();
  }

  private async forgetOld(): Promise<void> {
    const all = await this.ctx.redis.hgetall(this.ctx.keys.heartbeats);
    const now = this.ctx.clock.now();
    // A malformed entry is dropped too (ARCHITECTURE.md, rule 10: parsed with zod, never trusted).
    const old = Object.entries(all)
      .filter(([, raw]) => now - (parseJson(WorkerHeartbeat, raw)?.at_ms ?? 0) > FORGET_AFTER_MS)
      .map(([id]) => id);
    if (old.length) await this.ctx.redis.hdel(this.ctx.keys.heartbeats, ...old);
  }

  /** Asks the container runtime whether it answers (the "runtime" loop); never throws. */
  async checkRuntime(): Promise<void> {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${RUNTIME_TIMEOUT_MS} ms`)), RUNTIME_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.ctx.runtime.ping(), deadline]);
      if (this.ctx.clock.now() - this.liveRestore.atMs > LIVE_RESTORE_EVERY_MS) {
        this.liveRestore = {
          value: await Promise.race([this.ctx.runtime.survivesRestart(), deadline]),
          atMs: this.ctx.clock.now(),
        };
      }
      this.runtime = {
        ok: true,
        latency_ms: Math.round(performance.now() - started),
        error: null,
        live_restore: this.liveRestore.value,
        at_ms: this.ctx.clock.now(),
      };
    } catch (error) {
      this.runtime = {
        ok: false,
        latency_ms: Math.round(performance.now() - started),
        error: (error as Error).message.slice(0, 200),
        live_restore: this.liveRestore.value,
        at_ms: this.ctx.clock.now(),
      };
    } finally {
      clearTimeout(timer);
    }
  }

  /** A clean stop: the lease goes, the report stays with phase `stopped` (so /health knows one was here). */
  async stopped(): Promise<void> {
    this.phase = "stopped";
    this.loops = () => ({});
    const { redis, keys } = this.ctx;
    await execPipeline(
      redis.pipeline().del(keys.workerLease(this.workerId)).hset(keys.heartbeats, this.workerId, JSON.stringify(this.report())),
    );
  }
}
