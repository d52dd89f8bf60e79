import { eq, sql } from "drizzle-orm";
import type { Db, Queryable } from "./client";
import { settings } from "./schema";

/**
 * Runs `change` on one setting inside a transaction that holds the setting's row lock: processes
 * calling this for the same name run one at a time, so a read-compare-write on it is atomic.
 * `change` gets the current value, a writer for the new one, and the transaction for other queries.
 */
export async function withSettingLocked<T>(
  db: Db,
  name: string,
  change: (current: unknown, write: (value: unknown) => Promise<void>, tx: Queryable) => Promise<T>,
): Promise<T> {
  // The row must exist for the lock to hold: FOR UPDATE on a missing row locks nothing.
  await db
    .insert(settings)
    .values({ name, value: null })
    .onDuplicateKeyUpdate({ set: { name: sql`name` } });
  return db.transaction(async (tx) => {
    const [row] = await tx.select().from(settings).where(eq(settings.name, name)).for("update");
    const write = async (value: unknown) => {
      await tx.update(settings).set({ value, updatedAt: new Date() }).where(eq(settings.name, name));
    };
    return change(row?.value ?? null, write, tx);
  });
}
