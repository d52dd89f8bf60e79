/**
 * Polls an instance's health path on its loopback port until it answers 2xx/3xx or the deadline
 * passes: quickly at first (tens of ms), since a fresh container is usually up within a few polls.
 */
export async function waitHealthy(hostPort: number, path: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delayMs = 10;
  let lastProblem = "no answer";
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    try {
      const response = await fetch(`http://127.0.0.1:${hostPort}${path}`, {
        signal: AbortSignal.timeout(Math.min(1000, Math.max(50, deadline - Date.now()))),
        redirect: "manual",
      });
      await response.body?.cancel();
      if (response.status < 400) return;
      lastProblem = `status ${response.status}`;
    } catch (error) {
      lastProblem = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    delayMs = Math.min(200, Math.round(delayMs * 1.5));
  }
  throw new Error(`health check of ${path} failed within ${timeoutMs} ms: ${lastProblem}`);
}
