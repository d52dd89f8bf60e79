import type { Ctx } from "../context";
import { insertAuditRow } from "../db/audit";
import type { Queryable } from "../db/client";
import type { Caller } from "./model";

/**
 * Writes one audit row for a mutation (pass the transaction when the mutation has one, so both land
 * or neither does). The summary must hold no secret: no keys, no passwords, no env values.
 */
export async function recordAudit(
  ctx: Ctx,
  caller: Caller,
  entry: { action: string; targetKind: string; target: string; summary?: Record<string, unknown> | null },
  db: Queryable = ctx.db,
): Promise<void> {
  await insertAuditRow(db, {
    actorKind: caller.actor.kind,
    actor: caller.actor.label.slice(0, 254),
    action: entry.action,
    targetKind: entry.targetKind,
    target: entry.target.slice(0, 254),
    summary: entry.summary ?? null,
    requestId: caller.requestId,
  });
}
