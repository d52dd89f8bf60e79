import type { Caller } from "../audit/model";
import { recordAudit } from "../audit/record";
import type { Ctx } from "../context";
import type { Actor } from "../keys/authenticate";
import { type ExtendInput, extend } from "./extend";

/** An admin adds time to a visitor's instance (within the app's max TTL), recorded in the audit log. */
export async function extendByAdmin(ctx: Ctx, id: string, input: ExtendInput, actor: Actor, caller: Caller) {
  const result = await extend(ctx, id, input, actor);
  await recordAudit(ctx, caller, {
    action: "instance.extend",
    targetKind: "instance",
    target: id,
    summary: { minutes: input.minutes },
  });
  return result;
}
