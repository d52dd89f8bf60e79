import { z } from "zod";
import { type AppSpec, apiFields, apiShape, applyApiFields, pickSpec, Slug } from "../app-spec";
import type { AppRow } from "../db/schema";

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

/** Rules across fields; returns the problems (empty when the spec holds together). */
export function specProblems(spec: AppSpec): string[] {
  const problems: string[] = [];
  if (spec.poolMin > spec.poolTarget) problems.push("pool_min may not exceed pool_target");
  if (spec.poolTarget > spec.poolMax) problems.push("pool_target may not exceed pool_max");
  if (spec.defaultTtlSeconds > spec.maxTtlSeconds) problems.push("default_ttl_seconds may not exceed max_ttl_seconds");
  return problems;
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
