/**
 * Preloaded (`node --import`) into a test's worker only, never part of the product's start: makes
 * the cleanup jobs of one app fail (`TIN_CLEANUP_FAULT=fail:<app>`) or hang (`hang:<app>`).
 */
const [kind, app] = (process.env.TIN_CLEANUP_FAULT ?? "").split(":");

(globalThis as unknown as { __tinCleanupFault?: (job: { id: string; app: string }) => Promise<void> }).__tinCleanupFault = async (
  job,
) => {
  if (job.app !== app) return;
  if (kind === "fail") throw new Error("injected cleanup failure (test)");
  if (kind === "hang") {
    console.log(JSON.stringify({ msg: "fault: holding the job", instance: job.id }));
    await new Promise(() => undefined);
  }
};
