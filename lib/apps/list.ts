import type { Ctx } from "../context";
import { listAppRows } from "../db/apps";
import { appView, specFromRow } from "./model";

export async function listApps(ctx: Ctx) {
  const rows = await listAppRows(ctx.db);
  return { apps: rows.map((row) => appView(specFromRow(row), row)) };
}
