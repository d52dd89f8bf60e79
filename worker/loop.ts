import { StateLog } from "../lib/dependency";
import type { Logger } from "../lib/log";

/**
 * Runs `task` every `intervalMs`, never overlapping itself, until stopped. A failure is never fatal
 * and is logged once when the loop starts failing and once when it works again — not at every
 * attempt while a dependency is away (ARCHITECTURE.md, "Restarts").
 */
export function every(name: string, intervalMs: number, log: Logger, task: () => Promise<unknown>) {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const state = new StateLog(log.child({ loop: name }), `loop ${name}`);
  const run = () => {
    running = (async () => {
      try {
        await task();
        state.ok();
      } catch (error) {
        state.failed(error);
      }
      if (!stopped) timer = setTimeout(run, intervalMs);
    })();
  };
  run();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
