import type { Config } from "../config";
import type { Ctx } from "../context";
import { findAppRow, insertAppRow, updateAppRow } from "../db/apps";
import { newRecordId } from "../ids";
import { mirrorApp } from "./mirror";
import { type AppSpec, appDefaults, specFromRow } from "./model";

export const DEFAULT_APP = "default";

/** The variables CONTAINER_IMAGE, CONTAINER_PORT, HEALTH_PATH and POOL_* define the app `default`. */
export function defaultAppSpec(config: Config): AppSpec {
  return { ...appDefaults(config), slug: DEFAULT_APP, name: "Default app", image: config.CONTAINER_IMAGE };
}

/** Upserts the app `default` from the environment at start, keeping settings the environment does not define. */
export async function ensureDefaultApp(ctx: Ctx): Promise<void> {
  const fromEnv = defaultAppSpec(ctx.config);
  const row = await findAppRow(ctx.db, DEFAULT_APP);
  if (!row) {
    await insertAppRow(ctx.db, newRecordId("app"), fromEnv);
    await mirrorApp(ctx, fromEnv);
    return;
  }
  const spec: AppSpec = {
    ...specFromRow(row),
    image: fromEnv.image,
    containerPort: fromEnv.containerPort,
    healthPath: fromEnv.healthPath,
    poolTarget: fromEnv.poolTarget,
    poolMin: fromEnv.poolMin,
    poolMax: fromEnv.poolMax,
    defaultTtlSeconds: fromEnv.defaultTtlSeconds,
    maxTtlSeconds: fromEnv.maxTtlSeconds,
  };
  await updateAppRow(ctx.db, spec);
  await mirrorApp(ctx, spec);
}
