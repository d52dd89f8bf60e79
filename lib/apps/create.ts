import { initialSpec } from "../app-spec";
import type { Ctx } from "../context";
import { findAppRow, insertAppRow } from "../db/apps";
import { AppError } from "../errors";
import { newRecordId } from "../ids";
import { mirrorApp } from "./mirror";
import { type AppCreateInput, appView, applyFields, specProblems } from "./model";

export async function createApp(ctx: Ctx, input: AppCreateInput) {
  const spec = applyFields(initialSpec(ctx.config, input.slug), input);
  const problems = specProblems(spec);
  if (problems.length) throw new AppError("INVALID_REQUEST", problems.join("; "), { details: problems });
  if (await findAppRow(ctx.db, spec.slug)) throw new AppError("CONFLICT", `app "${spec.slug}" already exists`);
  try {
    await insertAppRow(ctx.db, newRecordId("app"), spec);
  } catch (error) {
    if (isDuplicate(error)) throw new AppError("CONFLICT", `app "${spec.slug}" already exists`);
    throw error;
  }
  await mirrorApp(ctx, spec);
  const row = await findAppRow(ctx.db, spec.slug);
  return appView(spec, row);
}

/** drizzle wraps the driver's error; the duplicate-key code sits on it or on its cause. */
function isDuplicate(error: unknown): boolean {
  const { code, cause } = error as { code?: string; cause?: { code?: string } };
  return code === "ER_DUP_ENTRY" || cause?.code === "ER_DUP_ENTRY";
}
