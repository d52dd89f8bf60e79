import { startStack, startWorker } from "../tests/setup/stack";

/** The test stack with one worker; no API key, as a public launch page is used without one. */
export default async function globalSetup() {
  const env = { API_KEY: "" };
  const stop = await startStack(env);
  const worker = startWorker("worker-e2e", env);
  return async () => {
    await worker.stop();
    await stop();
  };
}
