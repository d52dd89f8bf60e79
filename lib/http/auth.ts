import { createHash, timingSafeEqual } from "node:crypto";
import type { Config } from "../config";
import { AppError } from "../errors";

const digest = (value: string) => createHash("sha256").update(value).digest();

/** When API_KEY is set, `X-API-Key` (or `Authorization: Bearer`) must match it; compared in constant time. */
export function checkApiKey(config: Config, headers: Headers): void {
  if (!config.API_KEY) return;
  const bearer = headers.get("authorization")?.match(/^Bearer\s+(.+)$/i)?.[1];
  const presented = headers.get("x-api-key") ?? bearer ?? "";
  if (!timingSafeEqual(digest(presented), digest(config.API_KEY))) {
    throw new AppError("UNAUTHORIZED", "a valid API key is required (X-API-Key)");
  }
}
