import { and, desc, eq, lt, type SQL } from "drizzle-orm";
import type { Queryable } from "./client";
import { type AuditRow, auditLog } from "./schema";

export async function insertAuditRow(db: Queryable, row: typeof auditLog.$inferInsert): Promise<void> {
  await db.insert(auditLog).values(row);
}

/** Newest first; `before` pages back (ids are increasing). */
export function listAuditRows(
  db: Queryable,
  filter: { targetKind?: string; target?: string; before?: number; limit: number },
): Promise<AuditRow[]> {
  const conditions: SQL[] = [];
  if (filter.targetKind) conditions.push(eq(auditLog.targetKind, filter.targetKind));
  if (filter.target) conditions.push(eq(auditLog.target, filter.target));
  if (filter.before) conditions.push(lt(auditLog.id, filter.before));
  return db
    .select()
    .from(auditLog)
    .where(conditions.length ? and(...conditions) : undefined)
    .orderBy(desc(auditLog.id))
    .limit(filter.limit);
}
