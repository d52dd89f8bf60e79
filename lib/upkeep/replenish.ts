import type { AppSpec } from "../app-spec";
import type { Ctx } from "../context";
import { recordFailure } from "../store/history";
import { readPoolLevels } from "../store/pool-levels";
import { provision } from "./provision";
import { backoffMs, warmTarget } from "./sizing";

/**
 * Keeps each app's ready + warming at its target, provisioning in parallel up to a per-process
 * concurrency limit. Safe with many workers: every provision starts with the atomic reserve script,
 * so extra attempts just find the pool full. Failures back off per app (shared through Redis).
 */
export class Replenisher {
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly abort = new AbortController();
  /** Apps backing off at the last tick, for the worker's heartbeat. */
  private backingOff: { app: string; failures: number; until_ms: number; error: string | null }[] = [];

  constructor(
    private readonly ctx: Ctx,
    private readonly workerId: string,
    private readonly concurrency: number,
  ) {}

  /** The apps whose replenish was backing off at the last tick and still is. */
  backoff() {
    const now = this.ctx.clock.now();
    return this.backingOff.filter((entry) => entry.until_ms > now);
  }

  get busy(): number {
    return this.inFlight.size;
  }

  async tick(apps: AppSpec[]): Promise<void> {
    if (this.abort.signal.aborted || !apps.length) return;
    const levels = await readPoolLevels(
      this.ctx.redis,
      apps.map((app) => this.ctx.keys.app(app.slug)),
    );
    const now = this.ctx.clock.now();
    this.backingOff = levels
      .filter((level) => level.health.backoffUntilMs > now)
      .map((level) => ({
        app: level.app,
        failures: level.health.consecutiveFailures,
        until_ms: level.health.backoffUntilMs,
        error: level.health.lastError,
      }));
    apps.forEach((app, index) => {
      const level = levels[index];
      if (level.health.backoffUntilMs > now) return;
      const target = warmTarget(app);
      let missing = target - level.ready - level.warming;
      while (missing > 0 && this.inFlight.size < this.concurrency) {
        missing -= 1;
        this.launch(app, target);
      }
    });
  }

  private launch(app: AppSpec, target: number): void {
    const keys = this.ctx.keys.app(app.slug);
    const job = provision(this.ctx, app, { workerId: this.workerId, target, signal: this.abort.signal })
      .then(async (result) => {
        if (result.status === "ready") await this.ctx.redis.hdel(keys.health, "consecutive_failures", "backoff_until");
      })
      .catch(async (error: Error) => {
        if (this.abort.signal.aborted) return;
        const failures = await this.ctx.redis.hincrby(keys.health, "consecutive_failures", 1);
        await this.ctx.redis.hset(keys.health, {
          last_error: error.message.slice(0, 500),
          last_error_at: this.ctx.clock.now(),
          backoff_until: this.ctx.clock.now() + backoffMs(failures),
        });
        this.ctx.log.warn({ app: app.slug, err: error.message, consecutiveFailures: failures }, "provision failed");
        await recordFailure(this.ctx, { app: app.slug, instance: null, reason: "provision", error: error.message });
      })
      .finally(() => this.inFlight.delete(job));
    this.inFlight.add(job);
  }

  /** Stops provisioning: in-flight provisions roll back (health checks abort) and are awaited. */
  async stop(timeoutMs: number): Promise<void> {
    this.abort.abort();
    await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((resolve) => setTimeout(resolve, timeoutMs))]);
  }
}
