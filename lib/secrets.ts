import { hkdf, randomBytes } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import type { Ctx } from "./context";
import { settings } from "./db/schema";

/** What a derived key is for; each purpose gets its own key, so one leaking does not give away another. */
export type KeyPurpose = "session" | "instance-token" | "visitor" | "conversion" | "challenge" | "challenge-key";

const SETTING = "auth_secret";

/**
 * The one secret of a deployment: `AUTH_SECRET`, or else a random one generated once and kept in
 * MariaDB, where every web process and worker reads the same value (never a constant in the code).
 */
async function loadRootSecret(ctx: Ctx): Promise<string> {
  if (ctx.config.AUTH_SECRET) return ctx.config.AUTH_SECRET;
  // The first process to get here writes it; the others keep the row they find.
  await ctx.db
    .insert(settings)
    .values({ name: SETTING, value: randomBytes(32).toString("base64url") })
    .onDuplicateKeyUpdate({ set: { name: sql`name` } });
  const [row] = await ctx.db.select().from(settings).where(eq(settings.name, SETTING)).limit(1);
  if (typeof row?.value !== "string" || row.value.length < 32)
    throw new Error("the generated AUTH_SECRET in MariaDB is missing or too short");
  return row.value;
}

function derive(secret: string, purpose: KeyPurpose): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    hkdf("sha256", secret, "tryitnow", `tryitnow ${purpose} v1`, 32, (error, key) =>
      error ? reject(error) : resolve(Buffer.from(key)),
    );
  });
}

/** A key for one purpose, derived (HKDF-SHA256) from the root secret; loaded once per context. */
export function derivedKey(ctx: Ctx, purpose: KeyPurpose): Promise<Buffer> {
  const cache = ctx.service("secrets", () => new Map<KeyPurpose, Promise<Buffer>>());
  let key = cache.get(purpose);
  if (!key) {
    key = loadRootSecret(ctx)
      .then((secret) => derive(secret, purpose))
      .catch((error) => {
        cache.delete(purpose); // try again on next use
        throw error;
      });
    cache.set(purpose, key);
  }
  return key;
}
