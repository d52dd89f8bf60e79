import type { Ctx } from "../context";
import { findAppRow, updateAppRow } from "../db/apps";
import { AppError, notFound } from "../errors";
import { mirrorApp } from "./mirror";
import { type AppPatchInput, appView, applyFields, Slug, specFromRow, specProblems } from "./model";

export async function updateApp(ctx: Ctx, slug: string, input: AppPatchInput) {
  if (!Slug.safeParse(slug).success) throw notFound("app");
  const row = await findAppRow(ctx.db, slug);
  if (!row) throw notFound("app");
  const spec = applyFields(specFromRow(row), input);
  const problems = specProblems(spec);
  if (problems.length) throw new AppError("INVALID_REQUEST", problems.join("; "), { details: problems });
  await updateAppRow(ctx.db, spec);
  await mirrorApp(ctx, spec);
  return appView(spec, await findAppRow(ctx.db, slug));
}
