import type { Caller } from "../audit/model";
import type { Ctx } from "../context";
import { listKeyRows } from "../db/api-keys";
import { keyWithin } from "./access";
import { keyView } from "./model";

/** The keys within the caller's reach (`keyWithin`): all of them, or those of its apps. */
export async function listKeys(ctx: Ctx, caller: Pick<Caller, "apps">) {
  return { keys: (await listKeyRows(ctx.db)).filter((row) => keyWithin(caller, row)).map(keyView) };
}
