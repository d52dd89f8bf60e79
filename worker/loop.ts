import { StateLog } from "../lib/dependency";
import type { Logger } from "../lib/log";
import type { LoopReport } from "../lib/store/messages";

/** A loop's task; long-running ones (a consumer) call `beat` whenever they make progress. */
type Task = (beat: () => void) => Promise<unknown>;

/**
 * Runs `task` every `intervalMs`, never overlapping itself, until stopped. A failure is never fatal
 * and is logged once when the loop starts failing and once when it works again — not at every
 * attempt while a dependency is away (ARCHITECTURE.md, "Restarts"). `report()` says when the loop
 * last completed (or beat) and whether it is failing: the worker's heartbeat carries it to /health.
 */
export function every(name: string, intervalMs: number, log: Logger, task: Task) {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const state = new StateLog(log.child({ loop: name }), `loop ${name}`);
  const status: LoopReport = { every_ms: intervalMs, done_at_ms: null, failing_since_ms: null, error: null };
  const beat = () => {
    status.done_at_ms = Date.now();
  };
  const run = () => {
    running = (async () => {
      try {
        await task(beat);
        state.ok();
        status.failing_since_ms = null;
        status.error = null;
      } catch (error) {
        state.failed(error);
        status.failing_since_ms ??= Date.now();
        status.error = (error instanceof Error ? error.message : String(error)).slice(0, 200);
      }
      beat();
      if (!stopped) timer = setTimeout(run, intervalMs);
    })();
  };
  run();
  return {
    name,
    report: (): LoopReport => ({ ...status }),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
