import type { Caller } from "../audit/model";
import { recordAudit } from "../audit/record";
import type { Ctx } from "../context";
import { findKeyRow, insertKeyRow } from "../db/api-keys";
import { newRecordId } from "../ids";
import { checkMintable } from "./access";
import { invalidateKeyCache } from "./authenticate";
import { mirrorKey } from "./mirror";
import { type KeyCreateInput, keyView } from "./model";
import { newKey } from "./secret";

/** Makes a key; the answer is the only time the key itself is shown. */
export async function createKey(ctx: Ctx, input: KeyCreateInput, caller: Caller) {
  checkMintable(caller, input);
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
    acquireRate: input.acquire_rate ?? null,
  });
  const row = (await findKeyRow(ctx.db, id))!;
  await mirrorKey(ctx, row);
  invalidateKeyCache(ctx);
  const { id: _id, created_at: _at, last_used_at: _used, revoked_at: _revoked, ...summary } = keyView(row);
  await recordAudit(ctx, caller, { action: "key.create", targetKind: "key", target: id, summary: { after: summary } });
  return { ...keyView(row), key };
}
