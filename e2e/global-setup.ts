import { startStack, startWorker, TEST_PORT, waitFor } from "../tests/setup/stack";

/**
 * The test stack with one worker; no API key, as a public launch page is used without one. The
 * browser and the test's own requests reach the web on loopback directly, so they are local
 * clients: the open API is theirs once the worker has loaded the (empty) key table.
 */
export default async function globalSetup() {
  const env = { API_KEY: "" };
  const stop = await startStack(env);
  const worker = startWorker("worker-e2e", env);
  await waitFor(
    "the open API (the worker's first key sync)",
    async () =>
      ((await (await fetch(`http://127.0.0.1:${TEST_PORT}/health`)).json()) as { open_api?: boolean }).open_api === true,
    30_000,
    200,
  );
  return async () => {
    await worker.stop();
    await stop();
  };
}
