import { randomUUID } from "node:crypto";
import type { Redis } from "./redis";
import { leaseScript, releaseLeaseScript } from "./scripts";

/** Per key, the tail of this process's queue: calls of one process wait for each other here, not by polling Redis. */
const queues = new Map<string, Promise<unknown>>();

/**
 * Runs `task` while holding a lease on `key` that every process (and every call in one process)
 * takes in turn: a short critical section across workers. Calls of one process queue in memory and
 * only then take the Redis lease, which another process may hold (then it is polled). The lease
 * expires after `ttlMs`, so a holder that died does not block the others for longer; waiting for
 * it longer than `waitMs` fails.
 */
export function withLock<T>(
  redis: Redis,
  key: string,
  task: () => Promise<T>,
  options: { ttlMs?: number; waitMs?: number } = {},
): Promise<T> {
  const previous = queues.get(key) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(() => leased(redis, key, task, options));
  const tail = run.catch(() => undefined);
  queues.set(key, tail);
  void tail.then(() => {
    if (queues.get(key) === tail) queues.delete(key);
  });
  return run;
}

async function leased<T>(redis: Redis, key: string, task: () => Promise<T>, { ttlMs = 10_000, waitMs = 15_000 }): Promise<T> {
  const owner = randomUUID();
  const deadline = performance.now() + waitMs;
  while (!(await leaseScript.run(redis, { lease: key }, { owner, ttlMs }))) {
    if (performance.now() > deadline) throw new Error(`lock ${key} still held after ${waitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  try {
    return await task();
  } finally {
    await releaseLeaseScript.run(redis, { lease: key }, { owner }).catch(() => undefined);
  }
}
