import type { Ctx } from "../context";
import { findKeyRow, insertKeyRow } from "../db/api-keys";
import { newRecordId } from "../ids";
import { invalidateKeyCache } from "./authenticate";
import { mirrorKey } from "./mirror";
import { type KeyCreateInput, keyView } from "./model";
import { newKey } from "./secret";

/** Makes a key; the answer is the only time the key itself is shown. */
export async function createKey(ctx: Ctx, input: KeyCreateInput) {
  const { key, prefix, hash } = newKey(input.kind);
  const id = newRecordId("key");
  await insertKeyRow(ctx.db, {
    id,
    name: input.name,
    kind: input.kind,
    prefix,
    hash,
    scopes: input.kind === "publishable" ? [] : (input.scopes ?? ["demo"]),
    apps: input.apps ?? null,
    allowedOrigins: input.allowed_origins ?? [],
  });
  const row = (await findKeyRow(ctx.db, id))!;
  await mirrorKey(ctx, row);
  invalidateKeyCache();
  return { ...keyView(row), key };
}
