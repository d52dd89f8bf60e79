import type { AppSpec } from "../app-spec";

/**
 * How many instances an app keeps ready + warming: its target, never under its minimum and never
 * over its maximum (which also caps ready + warming + assigned inside the reserve script).
 */
export function warmTarget(app: AppSpec): number {
  return Math.min(app.poolMax, Math.max(app.poolMin, app.poolTarget));
}

/** Back-off after consecutive provision failures: 1 s, 2 s, 4 s … capped at 60 s. */
export function backoffMs(consecutiveFailures: number): number {
  if (consecutiveFailures <= 0) return 0;
  return Math.min(60_000, 1000 * 2 ** (consecutiveFailures - 1));
}
