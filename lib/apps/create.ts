import { initialSpec } from "../app-spec";
import type { Caller } from "../audit/model";
import { recordAudit } from "../audit/record";
import type { Ctx } from "../context";
import { findAppRow, insertAppRow } from "../db/apps";
import { AppError } from "../errors";
import { newRecordId } from "../ids";
import { mayUseApp } from "../keys/authenticate";
import { mirrorApp } from "./mirror";
import { type AppCreateInput, applyFields, appView, auditView, invalidSpec, specProblems } from "./model";

export async function createApp(ctx: Ctx, input: AppCreateInput, caller: Caller) {
  // A key restricted to some apps may make only those (an app it could not see afterwards is no use).
  if (!mayUseApp(caller, input.slug))
    throw new AppError("FORBIDDEN", `this key may only create the apps it names (${caller.apps?.join(", ")})`);
  const spec = applyFields(initialSpec(ctx.config, input.slug), input);
  const problems = specProblems(spec);
  if (problems.length) throw invalidSpec(problems);
  if (await findAppRow(ctx.db, spec.slug)) throw new AppError("CONFLICT", `app "${spec.slug}" already exists`);
  try {
    await insertAppRow(ctx.db, newRecordId("app"), spec);
  } catch (error) {
    if (isDuplicate(error)) throw new AppError("CONFLICT", `app "${spec.slug}" already exists`);
    throw error;
  }
  await mirrorApp(ctx, spec);
  await recordAudit(ctx, caller, {
    action: "app.create",
    targetKind: "app",
    target: spec.slug,
    summary: { after: auditView(spec) },
  });
  const row = await findAppRow(ctx.db, spec.slug);
  return appView(spec, row);
}

/** drizzle wraps the driver's error; the duplicate-key code sits on it or on its cause. */
function isDuplicate(error: unknown): boolean {
  const { code, cause } = error as { code?: string; cause?: { code?: string } };
  return code === "ER_DUP_ENTRY" || cause?.code === "ER_DUP_ENTRY";
}
