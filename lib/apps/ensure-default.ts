import { type AppFieldName, type AppSpec, DEFAULT_APP, envSeeded, initialSpec } from "../app-spec";
import type { Config } from "../config";
import type { Ctx } from "../context";
import { findAppRow, insertAppRow, updateAppRow } from "../db/apps";
import { withSettingLocked } from "../db/settings";
import { newRecordId } from "../ids";
import { mirrorApp } from "./mirror";
import { specFromRow, specProblems } from "./model";

export { DEFAULT_APP };

/** The setting that remembers, per field, the value the environment last applied to `default`. */
const APPLIED = "default_app_env";

type Applied = Partial<Record<AppFieldName, unknown>>;

/** The app `default` as the environment alone would make it. */
export function defaultAppSpec(config: Config): AppSpec {
  return { ...initialSpec(config, DEFAULT_APP), name: "Default app" };
}

/**
 * Which environment-seeded fields to apply to an existing `default`: those whose value differs from
 * the one the environment applied last time. With no record (a database from before this rule),
 * every seeded field is applied once, as every start did then.
 */
export function envChanges(config: Config, applied: Applied | null): { field: AppFieldName; variable: string; value: unknown }[] {
  const changes: { field: AppFieldName; variable: string; value: unknown }[] = [];
  for (const [field, seed] of Object.entries(envSeeded(config)) as [AppFieldName, { variable: string; value: unknown }][]) {
    if (applied && field in applied && JSON.stringify(applied[field]) === JSON.stringify(seed.value)) continue;
    changes.push({ field, variable: seed.variable, value: seed.value });
  }
  return changes;
}

/**
 * At worker start: the environment seeds `default` when it does not exist; later starts apply only
 * the variables whose value changed since the start that last applied them, so edits made through
 * the API or the dashboard stick (ARCHITECTURE.md, "The app default and the environment"). Runs
 * under a row lock, so workers starting together apply each change once.
 */
export async function ensureDefaultApp(ctx: Ctx): Promise<{ created: boolean; applied: string[] }> {
  const seeded = Object.fromEntries(Object.entries(envSeeded(ctx.config)).map(([field, seed]) => [field, seed?.value]));
  const outcome = await withSettingLocked(ctx.db, APPLIED, async (current, write, tx) => {
    const row = await findAppRow(tx, DEFAULT_APP);
    if (!row) {
      const spec = defaultAppSpec(ctx.config);
      await insertAppRow(tx, newRecordId("app"), spec);
      await write(seeded);
      return { spec, created: true, applied: [] as string[] };
    }
    const changes = envChanges(ctx.config, isApplied(current) ? current : null);
    const spec: Record<string, unknown> = { ...specFromRow(row) };
    for (const change of changes) spec[change.field] = change.value;
    if (changes.length) await updateAppRow(tx, spec as AppSpec);
    await write(seeded);
    return { spec: spec as AppSpec, created: false, applied: changes.map((change) => change.variable) };
  });
  await mirrorApp(ctx, outcome.spec);
  const problems = specProblems(outcome.spec);
  // The pool still works (sizes are clamped), but the operator should hear that the two disagree.
  if (problems.length)
    ctx.log.warn(
      { app: DEFAULT_APP, problems: problems.map((problem) => problem.message) },
      "app default: the environment and its saved settings disagree",
    );
  if (outcome.created) ctx.log.info({ app: DEFAULT_APP }, "app default created from the environment");
  else if (outcome.applied.length)
    ctx.log.info({ app: DEFAULT_APP, variables: outcome.applied }, "app default: changed variables applied");
  return { created: outcome.created, applied: outcome.applied };
}

function isApplied(value: unknown): value is Applied {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
