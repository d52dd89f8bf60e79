import type { Ctx } from "../context";
import { listKeyRows } from "../db/api-keys";
import { keyView } from "./model";

export async function listKeys(ctx: Ctx) {
  return { keys: (await listKeyRows(ctx.db)).map(keyView) };
}
