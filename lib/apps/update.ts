import { changes, type Caller } from "../audit/model";
import { recordAudit } from "../audit/record";
import type { Ctx } from "../context";
import { findAppRow, updateAppRow } from "../db/apps";
import { notFound } from "../errors";
import { mirrorApp } from "./mirror";
import { type AppPatchInput, appView, applyFields, auditView, invalidSpec, Slug, specFromRow, specProblems } from "./model";

export async function updateApp(ctx: Ctx, slug: string, input: AppPatchInput, caller: Caller) {
  if (!Slug.safeParse(slug).success) throw notFound("app");
  const row = await findAppRow(ctx.db, slug);
  if (!row) throw notFound("app");
  const before = specFromRow(row);
  const spec = applyFields(before, input);
  const problems = specProblems(spec);
  if (problems.length) throw invalidSpec(problems);
  await updateAppRow(ctx.db, spec);
  await mirrorApp(ctx, spec);
  const action = input.paused === true ? "app.pause" : input.paused === false && before.paused ? "app.resume" : "app.update";
  await recordAudit(ctx, caller, { action, targetKind: "app", target: slug, summary: changes(auditView(before), auditView(spec)) });
  return appView(spec, await findAppRow(ctx.db, slug));
}
