import type { Caller } from "../audit/model";
import type { Ctx } from "../context";
import { listAppRows } from "../db/apps";
import { mayUseApp } from "../keys/authenticate";
import { appView, specFromRow } from "./model";

/** The apps the caller may see: all of them, or those of its key's `apps`. */
export async function listApps(ctx: Ctx, caller: Pick<Caller, "apps">) {
  const rows = (await listAppRows(ctx.db)).filter((row) => mayUseApp(caller, row.slug));
  return { apps: rows.map((row) => appView(specFromRow(row), row)) };
}
