import { decodeCfg } from "./hashes";
import type { AppKeys } from "./keys";
import { as, execPipeline } from "./pipeline";

const SIZING = ["pool_target", "pool_max"] as const;

import type { Redis } from "./redis";

/** One app's pool as Redis holds it: list sizes, the mirrored sizing settings, replenish health. */
export interface PoolLevels {
  app: string;
  ready: number;
  warming: number;
  assigned: number;
  /** From the settings mirror; null once the app was deleted (it is draining). */
  sizing: { target: number; max: number } | null;
  health: { consecutiveFailures: number; lastError: string | null; backoffUntilMs: number };
}

/** The pool levels of several apps in one round trip (a pipeline). */
export async function readPoolLevels(redis: Redis, apps: AppKeys[]): Promise<PoolLevels[]> {
  if (!apps.length) return [];
  const pipeline = redis.pipeline();
  for (const keys of apps) {
    pipeline.llen(keys.ready).scard(keys.warming).zcard(keys.expiry);
    pipeline.hmget(keys.cfg, ...SIZING);
    pipeline.hmget(keys.health, "consecutive_failures", "last_error", "backoff_until");
  }
  const replies = await execPipeline(pipeline);
  return apps.map((keys, index) => {
    const at = (offset: number) => replies[index * 5 + offset];
    const sizing = decodeCfg(SIZING, as.fields(at(3)));
    const [failures, lastError, backoffUntil] = as.fields(at(4));
    return {
      app: keys.app,
      ready: as.count(at(0)),
      warming: as.count(at(1)),
      assigned: as.count(at(2)),
      // pool_target is always mirrored: without it the mirror is gone (the app was deleted).
      sizing: as.fields(at(3))[0] == null ? null : { target: sizing.pool_target ?? 0, max: sizing.pool_max ?? 0 },
      health: {
        consecutiveFailures: Number(failures ?? 0),
        lastError: lastError ?? null,
        backoffUntilMs: Number(backoffUntil ?? 0),
      },
    };
  });
}
