import type { Caller } from "../audit/model";
import type { Ctx } from "../context";
import { loadAppRow } from "./load";
import { appView, specFromRow } from "./model";

export async function getApp(ctx: Ctx, slug: string, caller: Pick<Caller, "apps">) {
  const row = await loadAppRow(ctx, caller, slug);
  return appView(specFromRow(row), row);
}
