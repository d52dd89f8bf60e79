import { desc, eq, inArray, isNull } from "drizzle-orm";
import type { Db } from "./client";
import { type ApiKeyRow, apiKeys } from "./schema";

export async function insertKeyRow(db: Db, row: typeof apiKeys.$inferInsert): Promise<void> {
  await db.insert(apiKeys).values(row);
}

export async function findKeyRow(db: Db, id: string): Promise<ApiKeyRow | undefined> {
  const [row] = await db.select().from(apiKeys).where(eq(apiKeys.id, id)).limit(1);
  return row;
}

export function listKeyRows(db: Db): Promise<ApiKeyRow[]> {
  return db.select().from(apiKeys).orderBy(desc(apiKeys.createdAt));
}

export function activeKeyRows(db: Db): Promise<ApiKeyRow[]> {
  return db.select().from(apiKeys).where(isNull(apiKeys.revokedAt));
}

export async function revokeKeyRow(db: Db, id: string): Promise<void> {
  await db.update(apiKeys).set({ revokedAt: new Date() }).where(eq(apiKeys.id, id));
}

export async function touchKeyRows(db: Db, ids: string[], at: Date): Promise<void> {
  if (ids.length) await db.update(apiKeys).set({ lastUsedAt: at }).where(inArray(apiKeys.id, ids));
}
