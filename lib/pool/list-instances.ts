import { Slug } from "../app-spec";
import type { Ctx } from "../context";
import { notFound } from "../errors";
import { maskAddress } from "../net/address";
import { as, execPipeline } from "../store/pipeline";
import { readPoolLevels } from "../store/pool-levels";
import { instanceUrl } from "./view";

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
  for (const id of ids) reading.hmget(keys.inst(id), "assigned_at", "expires_at", "client_ip", "extensions", "created_at");
  const fields = ids.length ? await execPipeline(reading) : [];
  const now = ctx.clock.now();
  const instances = ids.flatMap((id, index) => {
    const [assignedAt, expiresAt, ip, extensions] = as.fields(fields[index]);
    if (!assignedAt || !expiresAt) return []; // expired between the two reads
    return [
      {
        id,
        url: instanceUrl(ctx.config, id),
        assigned_at: new Date(Number(assignedAt)).toISOString(),
        expires_at: new Date(Number(expiresAt)).toISOString(),
        ttl_remaining_seconds: Math.max(0, Math.floor((Number(expiresAt) - now) / 1000)),
        client: maskAddress(ip ?? ""),
        extensions: Number(extensions ?? 0),
      },
    ];
  });
  return { app, ready: levels.ready, warming: levels.warming, assigned: levels.assigned, instances };
}
