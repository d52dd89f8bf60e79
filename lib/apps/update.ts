import { type Caller, changes } from "../audit/model";
import { recordAudit } from "../audit/record";
import type { Ctx } from "../context";
import { findAppRow, updateAppRow } from "../db/apps";
import { loadAppRow } from "./load";
import { mirrorApp } from "./mirror";
import { type AppPatchInput, applyFields, appView, auditView, invalidSpec, specFromRow, specProblems } from "./model";

export async function updateApp(ctx: Ctx, slug: string, input: AppPatchInput, caller: Caller) {
  const row = await loadAppRow(ctx, caller, slug);
  const before = specFromRow(row);
  const spec = applyFields(before, input);
  const problems = specProblems(spec);
  if (problems.length) throw invalidSpec(problems);
  await updateAppRow(ctx.db, spec);
  await mirrorApp(ctx, spec);
  const action = input.paused === true ? "app.pause" : input.paused === false && before.paused ? "app.resume" : "app.update";
  await recordAudit(ctx, caller, {
    action,
    targetKind: "app",
    target: slug,
    summary: changes(auditView(before), auditView(spec)),
  });
  return appView(spec, await findAppRow(ctx.db, slug));
}
