import { z } from "zod";
import { type AppSpec, apiFields, apiShape, applyApiFields, EnvName, pickSpec, Slug } from "../app-spec";
import type { AppRow } from "../db/schema";
import { AppError } from "../errors";

export type { AppSpec };
export { Slug };

/** Every app field as the API's JSON names it, derived from the field table (lib/app-spec.ts). */
const AppFields = z.object(apiShape());

export const AppCreateInput = AppFields.partial().extend({ slug: Slug, image: AppFields.shape.image }).strict();
export type AppCreateInput = z.infer<typeof AppCreateInput>;

/**
 * What an app's env values look like to everyone who reads them (ARCHITECTURE.md, "Authorization"):
 * values may be secrets, so they are write-only — names are shown, values never.
 */
export const ENV_MASK = "********";

/**
 * A PATCH of `env` merges per name: a string sets (or replaces) that name, `null` deletes it, the
 * mask keeps the current value (so a form can send back what it was shown); names left out keep
 * theirs.
 */
const EnvPatch = z
  .record(EnvName, z.string().max(4096).nullable())
  .refine((env) => Object.keys(env).length <= 200, "at most 200 env changes");

export const AppPatchInput = AppFields.partial().extend({ env: EnvPatch.optional() }).strict();
export type AppPatchInput = z.infer<typeof AppPatchInput>;

/** Applies API fields onto a spec; fields the input leaves out keep their value, env merges per name. */
export function applyFields(spec: AppSpec, input: AppPatchInput | AppCreateInput): AppSpec {
  const { env: patch, ...rest } = input;
  const next = applyApiFields(spec, rest);
  if (patch === undefined) return next;
  const env = { ...spec.env };
  for (const [name, value] of Object.entries(patch)) {
    if (value === null) delete env[name];
    else if (value !== ENV_MASK || !(name in env)) env[name] = value;
  }
  return { ...next, env };
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
  const envNames = Object.keys(spec.env);
  if (envNames.length > 100) problems.push({ path: "env", message: "at most 100 env variables" });
  if (envNames.some((name) => name.startsWith("TRYIT_")))
    problems.push({ path: "env", message: "TRYIT_* variables are set by the pool" });
  if (Object.values(spec.env).includes(ENV_MASK))
    problems.push({ path: "env", message: `a new variable needs a value (not ${ENV_MASK})` });
  if (spec.database === "none" && spec.databaseSeed)
    problems.push({ path: "database_seed", message: "a seed needs a database (database: mariadb)" });
  if (spec.signInPasswordEnv.startsWith("TRYIT_"))
    problems.push({ path: "sign_in_password_env", message: "TRYIT_* variables are set by the pool" });
  if (spec.signInPasswordEnv && spec.signInPasswordEnv in spec.env)
    problems.push({ path: "sign_in_password_env", message: "this variable is already in env" });
  return problems;
}

export function invalidSpec(problems: FieldProblem[]): AppError {
  return new AppError("INVALID_REQUEST", problems.map((problem) => problem.message).join("; "), { details: problems });
}

export function specFromRow(row: AppRow): AppSpec {
  return pickSpec(row);
}

/** An app as the API and the dashboard show it: env by name, every value masked. */
export function appView(spec: AppSpec, row?: Pick<AppRow, "createdAt" | "updatedAt">) {
  const fields = apiFields(spec);
  return {
    ...fields,
    env: Object.fromEntries(Object.keys(fields.env).map((name) => [name, ENV_MASK])),
    created_at: row?.createdAt.toISOString(),
    updated_at: row?.updatedAt.toISOString(),
  };
}

/** An app's settings as the audit log keeps them: env values may be secrets, so only their names. */
export function auditView(spec: AppSpec): Record<string, unknown> {
  const { env, ...rest } = apiFields(spec);
  return { ...rest, env: Object.keys(env).sort() };
}
