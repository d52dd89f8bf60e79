import type { Ctx } from "../context";
import { findAppRow, insertAppRow } from "../db/apps";
import { AppError } from "../errors";
import { newRecordId } from "../ids";
import { mirrorApp } from "./mirror";
import { type AppCreateInput, type AppSpec, appDefaults, appView, applyFields, specProblems } from "./model";

export async function createApp(ctx: Ctx, input: AppCreateInput) {
  const base: AppSpec = { ...appDefaults(ctx.config), slug: input.slug, name: input.name ?? input.slug, image: input.image };
  const spec = applyFields(base, input);
  const problems = specProblems(spec);
  if (problems.length) throw new AppError("INVALID_REQUEST", problems.join("; "), { details: problems });
  if (await findAppRow(ctx.db, spec.slug)) throw new AppError("CONFLICT", `app "${spec.slug}" already exists`);
  try {
    await insertAppRow(ctx.db, newRecordId("app"), spec);
  } catch (error) {
    if ((error as { code?: string }).code === "ER_DUP_ENTRY") throw new AppError("CONFLICT", `app "${spec.slug}" already exists`);
    throw error;
  }
  await mirrorApp(ctx, spec);
  const row = await findAppRow(ctx.db, spec.slug);
  return appView(spec, row);
}
