import { Slug } from "../app-spec";
import type { Ctx } from "../context";
import { notFound } from "../errors";
import { maskAddress } from "../net/address";
import { decodeInstance } from "../store/hashes";
import { as, execPipeline } from "../store/pipeline";
import { readPoolLevels } from "../store/pool-levels";
import { instanceUrl } from "./view";

const LISTED = ["assigned_at", "expires_at", "client_ip", "extensions"] as const;

/**
 * An app's assigned instances for the dashboard (soonest to expire first) and its ready and warming
 * counts. Client addresses are masked; the record's other fields are the pool's own.
 */
export async function listInstances(ctx: Ctx, app: string) {
  if (!Slug.safeParse(app).success) throw notFound("app");
  const keys = ctx.keys.app(app);
  const [levels] = await readPoolLevels(ctx.redis, [keys]);
  if (!levels.sizing) throw notFound("app");
  const ids = await ctx.redis.zrange(keys.expiry, "0", "499");
  const reading = ctx.redis.pipeline();
  for (const id of ids) reading.hmget(keys.inst(id), ...LISTED);
  const fields = ids.length ? await execPipeline(reading) : [];
  const now = ctx.clock.now();
  const instances = ids.flatMap((id, index) => {
    const record = decodeInstance(LISTED, as.fields(fields[index]));
    if (!record.assigned_at || !record.expires_at) return []; // expired between the two reads
    return [
      {
        id,
        url: instanceUrl(ctx.config, id),
        assigned_at: new Date(record.assigned_at).toISOString(),
        expires_at: new Date(record.expires_at).toISOString(),
        ttl_remaining_seconds: Math.max(0, Math.floor((record.expires_at - now) / 1000)),
        client: maskAddress(record.client_ip ?? ""),
        extensions: record.extensions ?? 0,
      },
    ];
  });
  return { app, ready: levels.ready, warming: levels.warming, assigned: levels.assigned, instances };
}
