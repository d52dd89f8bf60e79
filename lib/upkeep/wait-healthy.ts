import http from "node:http";

/**
 * One GET of the health path on a connection of its own; the status, or throws. Not fetch(): its
 * global dispatcher keeps a connection pool per origin for good, and every instance has a port (an
 * origin) of its own — `npm run soak` measured the worker's memory growing by ~10 MB a minute.
 */
function probe(hostPort: number, path: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: "127.0.0.1", port: hostPort, path, agent: false, timeout: timeoutMs }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on("timeout", () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on("error", reject);
  });
}

/**
 * Polls an instance's health path on its loopback port until it answers 2xx/3xx or the deadline
 * passes: quickly at first (tens of ms), since a fresh container is usually up within a few polls.
 */
export async function waitHealthy(hostPort: number, path: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let delayMs = 10;
  let lastProblem = "no answer";
  while (performance.now() < deadline) {
    signal?.throwIfAborted();
    try {
      const status = await probe(hostPort, path, Math.min(1000, Math.max(50, deadline - performance.now())));
      if (status < 400) return;
      lastProblem = `status ${status}`;
    } catch (error) {
      lastProblem = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    delayMs = Math.min(200, Math.round(delayMs * 1.5));
  }
  throw new Error(`health check of ${path} failed within ${timeoutMs} ms: ${lastProblem}`);
}
