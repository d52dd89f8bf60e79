import type { Logger } from "../lib/log";

/** Runs `task` every `intervalMs`, never overlapping itself, until stopped; errors are logged, not fatal. */
export function every(name: string, intervalMs: number, log: Logger, task: () => Promise<unknown>) {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const run = () => {
    running = (async () => {
      try {
        await task();
      } catch (error) {
        log.warn({ loop: name, err: (error as Error).message }, "loop iteration failed");
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
