import { z } from "zod";
import { type AppSpec, apiFields, apiShape, applyApiFields, pickSpec, Slug } from "../app-spec";
import type { AppRow } from "../db/schema";
import { AppError } from "../errors";

export { Slug };
export type { AppSpec };

/** Every app field as the API's JSON names it, derived from the field table (lib/app-spec.ts). */
const AppFields = z.object(apiShape());

export const AppCreateInput = AppFields.partial().extend({ slug: Slug, image: AppFields.shape.image }).strict();
export type AppCreateInput = z.infer<typeof AppCreateInput>;

export const AppPatchInput = AppFields.partial().strict();
export type AppPatchInput = z.infer<typeof AppPatchInput>;

/** Applies API fields onto a spec; fields the input leaves out keep their value. */
export function applyFields(spec: AppSpec, input: AppPatchInput): AppSpec {
  return applyApiFields(spec, input);
}

/** A problem with one field, as the API's INVALID_REQUEST details list them (the form shows it beside the field). */
export interface FieldProblem {
  path: string;
  message: string;
}

/** Rules across fields; returns the problems (empty when the spec holds together). */
export function specProblems(spec: AppSpec): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (spec.poolMin > spec.poolTarget) problems.push({ path: "pool_min", message: "pool_min may not exceed pool_target" });
  if (spec.poolTarget > spec.poolMax) problems.push({ path: "pool_target", message: "pool_target may not exceed pool_max" });
  if (spec.defaultTtlSeconds > spec.maxTtlSeconds) {
    problems.push({ path: "default_ttl_seconds", message: "default_ttl_seconds may not exceed max_ttl_seconds" });
  }
  if (spec.defaultTtlSeconds > spec.maxLifetimeSeconds) {
    problems.push({ path: "max_lifetime_seconds", message: "max_lifetime_seconds may not be below default_ttl_seconds" });
  }
  if (spec.ctaLabel && !spec.ctaUrl) problems.push({ path: "cta_url", message: "a call to action needs its link" });
  return problems;
}

export function invalidSpec(problems: FieldProblem[]): AppError {
  return new AppError("INVALID_REQUEST", problems.map((problem) => problem.message).join("; "), { details: problems });
}

export function specFromRow(row: AppRow): AppSpec {
  return pickSpec(row);
}

export function appView(spec: AppSpec, row?: Pick<AppRow, "createdAt" | "updatedAt">) {
  return {
    ...apiFields(spec),
    created_at: row?.createdAt.toISOString(),
    updated_at: row?.updatedAt.toISOString(),
  };
}
export type AppView = ReturnType<typeof appView>;

/** An app's settings as the audit log keeps them: env values may be secrets, so only their names. */
export function auditView(spec: AppSpec): Record<string, unknown> {
  const { env, ...rest } = apiFields(spec);
  return { ...rest, env: Object.keys(env).sort() };
}
