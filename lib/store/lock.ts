import { randomUUID } from "node:crypto";
import type { Redis } from "./redis";
import { leaseScript, releaseLeaseScript } from "./scripts";

/**
 * Runs `task` while holding a lease on `key` that every process (and every call in one process)
 * takes in turn: a short critical section across workers. The lease expires after `ttlMs`, so a
 * holder that died does not block the others for longer; waiting longer than `waitMs` fails.
 */
export async function withLock<T>(redis: Redis, key: string, task: () => Promise<T>, { ttlMs = 10_000, waitMs = 15_000 } = {}): Promise<T> {
  const owner = randomUUID();
  const deadline = Date.now() + waitMs;
  while (!(await leaseScript.run(redis, { lease: key }, { owner, ttlMs }))) {
    if (Date.now() > deadline) throw new Error(`lock ${key} still held after ${waitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  try {
    return await task();
  } finally {
    await releaseLeaseScript.run(redis, { lease: key }, { owner }).catch(() => undefined);
  }
}
