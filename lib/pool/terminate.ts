import type { Caller } from "../audit/model";
import { recordAudit } from "../audit/record";
import type { Ctx } from "../context";
import type { Actor } from "../keys/authenticate";
import { release } from "./release";

/** An admin ends a visitor's instance from the dashboard: a release, recorded in the audit log. */
export async function terminateInstance(ctx: Ctx, id: string, actor: Actor, caller: Caller) {
  const result = await release(ctx, id, actor, caller.requestId ?? "");
  await recordAudit(ctx, caller, { action: "instance.terminate", targetKind: "instance", target: id });
  return result;
}
