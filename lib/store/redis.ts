import { Redis } from "ioredis";
import type { Config } from "../config";
import { SCRIPTS, type ScriptName } from "./scripts";

export type { Redis };

/** A Redis/Valkey client with every pool script registered (EVALSHA, loaded once). */
export function createRedis(config: Config, options: { subscriber?: boolean } = {}): Redis {
  const [host, port] = splitAddr(config.VALKEY_ADDR);
  const redis = new Redis({
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
  for (const [name, script] of Object.entries(SCRIPTS)) {
    redis.defineCommand(name, { numberOfKeys: script.keys, lua: script.lua });
  }
  return redis;
}

type ScriptReply = string | number | null | ScriptReply[];

/** Runs one registered script: one round trip. */
export function runScript<T = ScriptReply>(
  redis: Redis,
  name: ScriptName,
  keys: string[],
  args: (string | number)[],
): Promise<T> {
  const command = (redis as unknown as Record<string, (...a: (string | number)[]) => Promise<T>>)[name];
  return command.call(redis, ...keys, ...args);
}

function splitAddr(addr: string): [string, number] {
  const index = addr.lastIndexOf(":");
  if (index < 0) return [addr, 6379];
  return [addr.slice(0, index).replace(/^\[|\]$/g, ""), Number(addr.slice(index + 1))];
}
