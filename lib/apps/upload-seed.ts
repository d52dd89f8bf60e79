import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Caller } from "../audit/model";
import type { Ctx } from "../context";
import { AppError } from "../errors";
import { loadAppRow } from "./load";
import { updateApp } from "./update";

/** The most a seed upload may hold (SEED_UPLOAD_MAX_MB), far above the API's JSON limit. */
export const seedUploadLimit = (config: Ctx["config"]) => config.SEED_UPLOAD_MAX_MB * 1024 * 1024;

/** An uploaded seed's file in SEEDS_DIR: the app's slug and its content's version. */
const uploadName = (slug: string, version: string) => `${slug}-upload-${version}.sql`;

/**
 * Takes an uploaded SQL dump as the app's seed (ARCHITECTURE.md, "Demo databases"): written into
 * SEEDS_DIR under a name of its own (the app's slug and its content's hash, never a name the caller
 * chooses), then set as the app's `database_seed` with `database: mariadb`. The worker loads it into
 * a template at the next provision; the app's earlier uploads are removed.
 */
export async function uploadSeed(ctx: Ctx, slug: string, body: Buffer | undefined, caller: Caller) {
  await loadAppRow(ctx, caller, slug);
  if (!body?.length) throw new AppError("INVALID_REQUEST", "the body is empty: send the SQL dump itself");
  // A dump is text; raw NUL bytes mean a binary file (an archive, an image), not SQL.
  if (body.includes(0)) throw new AppError("INVALID_REQUEST", "this is not a SQL dump (it holds binary data)");
  const version = createHash("sha256").update(body).digest("hex").slice(0, 10);
  const name = uploadName(slug, version);
  mkdirSync(ctx.config.SEEDS_DIR, { recursive: true });
  const temporary = join(ctx.config.SEEDS_DIR, `.${name}.${process.pid}.tmp`);
  writeFileSync(temporary, body, { mode: 0o640 });
  renameSync(temporary, join(ctx.config.SEEDS_DIR, name));
  const app = await updateApp(ctx, slug, { database: "mariadb", database_seed: name }, caller);
  for (const file of readdirSync(ctx.config.SEEDS_DIR)) {
    const earlier = /^(.+)-upload-[0-9a-f]{10}\.sql$/.exec(file);
    if (earlier?.[1] === slug && file !== name) rmSync(join(ctx.config.SEEDS_DIR, file), { force: true });
  }
  return { ...app, seed: { name, bytes: body.length, version } };
}
