import { asc, eq } from "drizzle-orm";
import { type AppSpec, pickSpec } from "../app-spec";
import type { Queryable } from "./client";
import { type AppRow, apps } from "./schema";

export function listAppRows(db: Queryable): Promise<AppRow[]> {
  return db.select().from(apps).orderBy(asc(apps.slug));
}

export async function findAppRow(db: Queryable, slug: string): Promise<AppRow | undefined> {
  const [row] = await db.select().from(apps).where(eq(apps.slug, slug)).limit(1);
  return row;
}

export async function insertAppRow(db: Queryable, id: string, spec: AppSpec): Promise<void> {
  await db.insert(apps).values({ id, ...pickSpec(spec) });
}

export async function updateAppRow(db: Queryable, spec: AppSpec): Promise<void> {
  const { slug, ...fields } = pickSpec(spec);
  await db
    .update(apps)
    .set({ ...fields, updatedAt: new Date() })
    .where(eq(apps.slug, slug));
}

/** Returns whether a row was deleted. */
export async function deleteAppRow(db: Queryable, slug: string): Promise<boolean> {
  const [result] = await db.delete(apps).where(eq(apps.slug, slug));
  return result.affectedRows > 0;
}
