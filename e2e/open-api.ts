import { type APIRequestContext, expect } from "@playwright/test";

/**
 * Waits until the API is open again for this machine's clients: after the last key is revoked,
 * that takes the worker's next key sync (ARCHITECTURE.md, "HTTP API"), not the revocation alone.
 */
export async function waitForOpenApi(request: APIRequestContext): Promise<void> {
  await expect
    .poll(async () => ((await (await request.get("http://localhost:18080/health")).json()) as { open_api?: boolean }).open_api, {
      timeout: 15_000,
    })
    .toBe(true);
}
