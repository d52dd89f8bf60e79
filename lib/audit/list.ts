import { z } from "zod";
import type { Ctx } from "../context";
import { listAuditRows } from "../db/audit";

export const AuditQuery = z.object({
  target_kind: z.enum(["app", "key", "user", "instance"]).optional(),
  target: z.string().max(254).optional(),
  before: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type AuditQuery = z.infer<typeof AuditQuery>;

/** The audit log, newest first, optionally for one target. */
export async function listAudit(ctx: Ctx, query: AuditQuery) {
  const rows = await listAuditRows(ctx.db, {
    targetKind: query.target_kind,
    target: query.target || undefined,
    before: query.before,
    limit: query.limit,
  });
  return {
    entries: rows.map((row) => ({
      id: row.id,
      at: row.at.toISOString(),
      actor: { kind: row.actorKind, label: row.actor },
      action: row.action,
      target: { kind: row.targetKind, id: row.target },
      summary: row.summary,
      request_id: row.requestId,
    })),
    next_before: rows.length === query.limit ? rows[rows.length - 1]?.id : null,
  };
}
