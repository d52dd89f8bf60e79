import type { Ctx } from "../context";
import { touchKeyRows } from "../db/api-keys";

const FLUSH_MS = 10_000;

/**
 * Records that a key was used; `last_used_at` is written off the request path, in one UPDATE per
 * flush for all keys used since the last one.
 */
class KeyUsage {
  private readonly used = new Set<string>();
  private timer?: NodeJS.Timeout;

  note(ctx: Ctx, keyId: string): void {
    this.used.add(keyId);
    this.timer ??= setInterval(() => void this.flush(ctx), FLUSH_MS).unref();
  }

  async flush(ctx: Ctx): Promise<void> {
    if (!this.used.size) return;
    const ids = [...this.used];
    this.used.clear();
    await touchKeyRows(ctx.db, ids, new Date()).catch((error: Error) => {
      ctx.log.warn({ err: error.message }, "could not record key use");
    });
  }
}

export function noteKeyUse(ctx: Ctx, keyId: string): void {
  ctx.service("key-usage", () => new KeyUsage()).note(ctx, keyId);
}

export async function flushKeyUse(ctx: Ctx): Promise<void> {
  await ctx.existing<KeyUsage>("key-usage")?.flush(ctx);
}
