import type { AppSpec } from "../apps/model";
import type { Ctx } from "../context";
import { appKeys } from "../store/keys";
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

  constructor(
    private readonly ctx: Ctx,
    private readonly workerId: string,
    private readonly concurrency: number,
  ) {}

  get busy(): number {
    return this.inFlight.size;
  }

  async tick(apps: AppSpec[]): Promise<void> {
    if (this.abort.signal.aborted || !apps.length) return;
    const pipeline = this.ctx.redis.pipeline();
    for (const app of apps) {
      const keys = appKeys(this.ctx.config.VALKEY_PREFIX, app.slug);
      pipeline.llen(keys.ready).scard(keys.warming).hget(keys.health, "backoff_until");
    }
    const replies = (await pipeline.exec()) ?? [];
    const now = Date.now();
    apps.forEach((app, index) => {
      const ready = Number(replies[index * 3]?.[1] ?? 0);
      const warming = Number(replies[index * 3 + 1]?.[1] ?? 0);
      const backoffUntil = Number(replies[index * 3 + 2]?.[1] ?? 0);
      if (backoffUntil > now) return;
      const target = warmTarget(app);
      let missing = target - ready - warming;
      while (missing > 0 && this.inFlight.size < this.concurrency) {
        missing -= 1;
        this.launch(app, target);
      }
    });
  }

  private launch(app: AppSpec, target: number): void {
    const keys = appKeys(this.ctx.config.VALKEY_PREFIX, app.slug);
    const job = provision(this.ctx, app, { workerId: this.workerId, target, signal: this.abort.signal })
      .then(async (result) => {
        if (result.status === "ready") await this.ctx.redis.hdel(keys.health, "consecutive_failures", "backoff_until");
      })
      .catch(async (error: Error) => {
        if (this.abort.signal.aborted) return;
        const failures = await this.ctx.redis.hincrby(keys.health, "consecutive_failures", 1);
        await this.ctx.redis.hset(keys.health, {
          last_error: error.message.slice(0, 500),
          last_error_at: Date.now(),
          backoff_until: Date.now() + backoffMs(failures),
        });
        this.ctx.log.warn({ app: app.slug, err: error.message, consecutiveFailures: failures }, "provision failed");
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
