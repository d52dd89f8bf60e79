import { randomBytes } from "node:crypto";
import type { AppSpec } from "../app-spec";
import type { Ctx } from "../context";
import { cloneDatabase } from "../demo-db/clone";
import { newInstanceId } from "../ids";
import { conversionToken } from "../keys/instance-token";
import { metrics } from "../metrics";
import { removeRecord } from "../pool/remove";
import { instanceUrl } from "../pool/view";
import { containerApiPort } from "../public-url";
import { attachScript, readyScript, reserveScript } from "../store/scripts";
import { cleanupInstance } from "./cleanup";
import { waitHealthy } from "./wait-healthy";

export type ProvisionResult = { status: "ready"; id: string } | { status: "full" } | { status: "dropped"; id: string };

/**
 * Makes one instance: reserve (the only path that creates instances, atomic against the target and
 * max) → create the container → health-check → add the route → mark ready. Any failure removes
 * what was made and rethrows; if the record vanished meanwhile (app deleted), the work is undone.
 */
export async function provision(
  ctx: Ctx,
  app: AppSpec,
  options: { workerId: string; target: number; signal?: AbortSignal },
): Promise<ProvisionResult> {
  const keys = ctx.keys.app(app.slug);
  const id = newInstanceId();
  const reserved = await reserveScript.run(
    ctx.redis,
    { ready: keys.ready, warming: keys.warming, expiry: keys.expiry, inst: keys.inst(id), cfg: keys.cfg },
    { target: options.target, max: app.poolMax, nowMs: ctx.clock.now(), workerId: options.workerId, id },
  );
  if (reserved.status === "refused") return { status: "full" };
  const started = performance.now();
  const log = ctx.log.child({ app: app.slug, instance: id });
  try {
    await ctx.redis.set(ctx.keys.loc(id), app.slug);
    // Fail closed: no instance starts before its network's egress rules are in place.
    const network = await ctx.egress.prepare(app);
    // The visitor's sign-in and the instance's database are made before its container: both go
    // into its environment, and the database's setup may write the password (ARCHITECTURE.md, "Demo databases").
    const password = app.signInUser ? newPassword() : "";
    const database =
      app.database === "mariadb"
        ? await cloneDatabase(ctx, app, id, {
            url: instanceUrl(ctx.config, id),
            host: new URL(instanceUrl(ctx.config, id)).host,
            username: app.signInUser,
            password,
          })
        : null;
    const env = {
      ...app.env,
      ...database?.env,
      ...(app.signInPasswordEnv && password ? { [app.signInPasswordEnv]: password } : {}),
      ...(await productEnv(ctx, app, id, network.gateway)),
    };
    const { hostPort, address } = await ctx.runtime.start(app, id, env, network.name);
    const signIn = app.signInUser ? { credUser: app.signInUser, credPass: password, credPath: app.signInPath } : NO_SIGN_IN;
    if (!(await attachScript.run(ctx.redis, { inst: keys.inst(id) }, { hostPort, ...signIn }))) throw new DroppedError();
    // The address enters the egress maps while the app boots; not ready before both are done, and
    // a failed admit stops the health check.
    const health = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, health.signal]) : health.signal;
    const admitted = ctx.egress.admit(app, address).catch((error) => {
      health.abort();
      throw error;
    });
    await Promise.all([admitted, waitHealthy(hostPort, app.healthPath, ctx.config.HEALTH_TIMEOUT, signal)]);
    await ctx.routes.add(id, hostPort);
    const ready = await readyScript.run(
      ctx.redis,
      { warming: keys.warming, ready: keys.ready, inst: keys.inst(id) },
      { id, nowMs: ctx.clock.now() },
    );
    if (!ready) throw new DroppedError();
    const seconds = (performance.now() - started) / 1000;
    metrics.provisionDuration.observe({ app: app.slug }, seconds);
    log.info(
      { durationMs: Math.round(seconds * 1000), hostPort, ...(database ? { cloneMs: Math.round(database.cloneMs) } : {}) },
      "instance ready",
    );
    return { status: "ready", id };
  } catch (error) {
    await removeRecord(ctx, keys, id, { expected: "warming", event: "expired" }).catch(() => null);
    await cleanupInstance(ctx, id).catch((cleanupError) =>
      log.warn({ err: (cleanupError as Error).message }, "cleanup after failed provision failed; the reconciler will retry"),
    );
    if (error instanceof DroppedError) {
      log.info("instance dropped while warming (app changed or deleted)");
      return { status: "dropped", id };
    }
    metrics.provisionFailures.inc({ app: app.slug });
    throw error;
  }
}

class DroppedError extends Error {}

const NO_SIGN_IN = { credUser: "", credPass: "", credPath: "" };

/** A visitor's sign-in password: 16 characters of base64url (96 random bits), easy to copy. */
function newPassword(): string {
  return randomBytes(12).toString("base64url");
}

/**
 * What the product tells each container about itself (ARCHITECTURE.md, "Containers"): its id and
 * URL, and what it needs to report a conversion — the API's address as a container reaches it (the
 * proxy on its network's gateway), and a token that credits this instance and nothing else. Set
 * last: an app's env cannot override them.
 */
async function productEnv(ctx: Ctx, app: AppSpec, id: string, gateway: string): Promise<Record<string, string>> {
  const own = { TRYIT_INSTANCE_ID: id, TRYIT_URL: instanceUrl(ctx.config, id) };
  // Only an app entitled to the API (api_access) may reach it: the others are not told of it.
  if (!app.apiAccess) return own;
  return {
    ...own,
    TRYIT_API_URL: ctx.config.CONTAINER_API_URL || `http://${gateway}:${containerApiPort(ctx.config)}`,
    TRYIT_CONVERT_TOKEN: await conversionToken(ctx, id),
  };
}
