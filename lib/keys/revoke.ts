import type { Caller } from "../audit/model";
import { recordAudit } from "../audit/record";
import type { Ctx } from "../context";
import { findKeyRow, revokeKeyRow } from "../db/api-keys";
import { notFound } from "../errors";
import { keyWithin } from "./access";
import { invalidateKeyCache } from "./authenticate";
import { unmirrorKey } from "./mirror";

/** Revokes a key; web processes stop accepting it within their cache TTL (KEY_CACHE_TTL). */
export async function revokeKey(ctx: Ctx, id: string, caller: Caller) {
  const row = await findKeyRow(ctx.db, id);
  if (!row || row.revokedAt || !keyWithin(caller, row)) throw notFound("key");
  await revokeKeyRow(ctx.db, id);
  await unmirrorKey(ctx, row.hash);
  invalidateKeyCache(ctx);
  await recordAudit(ctx, caller, {
    action: "key.revoke",
    targetKind: "key",
    target: id,
    summary: { name: row.name, prefix: row.prefix },
  });
  return {
    id,
    status: "revoked" as const,
    message: `key revoked; it stops working within ${Math.ceil(ctx.config.KEY_CACHE_TTL / 1000)} s`,
  };
}
