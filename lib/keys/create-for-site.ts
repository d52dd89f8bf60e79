import type { Caller } from "../audit/model";
import type { Ctx } from "../context";
import { embedSnippet } from "../embed/asset";
import { createKey } from "./create";
import type { KeyCreateInput } from "./model";

/** The dashboard's key creation: a publishable key comes with its embed tag, the only time the key can be in it. */
export async function createKeyForSite(ctx: Ctx, input: KeyCreateInput, caller: Caller) {
  const created = await createKey(ctx, input, caller);
  const snippet =
    created.kind === "publishable" && created.apps?.[0] ? await embedSnippet(ctx, created.key, created.apps[0]) : null;
  return { ...created, snippet };
}
