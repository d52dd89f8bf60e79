import type { Caller } from "../audit/model";
import type { Ctx } from "../context";
import { findAppRow } from "../db/apps";
import { notFound } from "../errors";
import { mayUseApp } from "../keys/authenticate";
import { Slug } from "./model";

/**
 * The one way a verb loads an app: a malformed slug, an app that does not exist and an app outside
 * the caller's `apps` are the same 404, so a restricted key can neither touch nor probe another
 * tenant's apps.
 */
export async function loadAppRow(ctx: Ctx, caller: Pick<Caller, "apps">, slug: string) {
  if (!Slug.safeParse(slug).success || !mayUseApp(caller, slug)) throw notFound("app");
  const row = await findAppRow(ctx.db, slug);
  if (!row) throw notFound("app");
  return row;
}
