/**
 * Where lib/ reads the time of day (`Ctx.clock`): the system's in a process, a test's own that moves
 * only when told (ManualClock) in the worker-logic tests. Elapsed time (a deadline of waiting, a
 * back-off) is `performance.now()` instead, and times Redis keeps (leases, key TTLs, the abuse
 * trail's end) run on Redis's clock (ARCHITECTURE.md, "Testing").
 */
export interface Clock {
  /** Milliseconds since the epoch, as `Date.now()`. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that stands still until a test moves it. */
export class ManualClock implements Clock {
  constructor(private ms: number = Date.UTC(2026, 0, 1)) {}

  now(): number {
    return this.ms;
  }

  advance(ms: number): void {
    this.ms += ms;
  }
}
