import { Redis } from "ioredis";
import type { Config } from "../config";

export type { Redis };

/** A Redis/Valkey client. Scripts run through their typed wrappers (`lib/store/scripts.ts`). */
export function createRedis(config: Config, options: { subscriber?: boolean } = {}): Redis {
  const [host, port] = splitAddr(config.VALKEY_ADDR);
  return new Redis({
    host,
    port,
    password: config.VALKEY_PASSWORD || undefined,
    db: config.VALKEY_DB,
    connectTimeout: 2000,
    // Every call to an outside service has an explicit timeout; a subscriber waits for messages indefinitely.
    commandTimeout: options.subscriber ? undefined : 2000,
    maxRetriesPerRequest: 2,
    enableAutoPipelining: !options.subscriber,
    lazyConnect: false,
  });
}

/** `host:port` (IPv6 in brackets) → host and port; the port defaults to 6379. */
export function splitAddr(addr: string): [string, number] {
  const index = addr.lastIndexOf(":");
  if (index < 0 || addr.endsWith("]")) return [addr.replace(/^\[|\]$/g, ""), 6379];
  return [addr.slice(0, index).replace(/^\[|\]$/g, ""), Number(addr.slice(index + 1))];
}
