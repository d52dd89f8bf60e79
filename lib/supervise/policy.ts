/**
 * When the supervisor starts a process again (ARCHITECTURE.md, "Supervision"). A run shorter than
 * STABLE_MS is a failed start: the next one waits twice as long (1 s, 2 s, 4 s … at most 30 s);
 * after GIVE_UP_AFTER failed starts in a row the process is given up on. A run that lasted resets
 * the count, so a process that crashes once a day is restarted after a second, every time.
 */
export const RESTART_POLICY = { firstDelayMs: 1000, maxDelayMs: 30_000, stableMs: 10_000, giveUpAfter: 5 };
export type RestartPolicy = typeof RESTART_POLICY;

export type Decision = { action: "restart"; delayMs: number; failedStarts: number } | { action: "give-up"; failedStarts: number };

/** The decision after a run of `ranMs` that followed `failedStarts` failed starts in a row. */
export function afterExit(ranMs: number, failedStarts: number, policy: RestartPolicy = RESTART_POLICY): Decision {
  const failed = ranMs < policy.stableMs ? failedStarts + 1 : 0;
  if (failed >= policy.giveUpAfter) return { action: "give-up", failedStarts: failed };
  const delayMs = failed === 0 ? policy.firstDelayMs : Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** (failed - 1));
  return { action: "restart", delayMs, failedStarts: failed };
}
