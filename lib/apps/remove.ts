import { removeAppBlocks } from "../abuse/blocks";
import type { Caller } from "../audit/model";
import { recordAudit } from "../audit/record";
import type { Ctx } from "../context";
import { deleteAppRow } from "../db/apps";
import { notFound } from "../errors";
import { loadAppRow } from "./load";
import { unmirrorApp } from "./mirror";

/**
 * Deletes an app: acquires stop at once, and the worker drains and removes its instances. Its own
 * blocks go with it (a new app of the same name starts with a clean list); its abuse trail stays
 * until its retention ends.
 */
export async function removeApp(ctx: Ctx, slug: string, caller: Caller) {
  await loadAppRow(ctx, caller, slug);
  if (!(await deleteAppRow(ctx.db, slug))) throw notFound("app");
  await unmirrorApp(ctx, slug);
  await removeAppBlocks(ctx, slug);
  await recordAudit(ctx, caller, { action: "app.delete", targetKind: "app", target: slug });
  return { slug, status: "deleted", message: "app deleted; its instances are being drained" };
}
