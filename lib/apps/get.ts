import type { Ctx } from "../context";
import { findAppRow } from "../db/apps";
import { notFound } from "../errors";
import { appView, Slug, specFromRow } from "./model";

export async function getApp(ctx: Ctx, slug: string) {
  if (!Slug.safeParse(slug).success) throw notFound("app");
  const row = await findAppRow(ctx.db, slug);
  if (!row) throw notFound("app");
  return appView(specFromRow(row), row);
}
