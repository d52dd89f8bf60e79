import { z } from "zod";
import { DEFAULT_APP, Slug } from "../app-spec";
import type { Ctx } from "../context";
import { AppError } from "../errors";
import { emitEvent } from "../events/publish";
import { ChallengeAnswer, checkAnswer } from "../gate/challenge";
import { callerClass } from "../gate/policy";
import { type Actor, mayUseApp } from "../keys/authenticate";
import { instanceToken } from "../keys/instance-token";
import { metrics } from "../metrics";
import { blockCandidates, clientKey } from "../net/address";
import { acquireScript } from "../store/scripts";
import { credentialsView, instanceView } from "./view";

export const AcquireInput = z.object({
  app: Slug.optional(),
  /** The proof-of-work gate's answer (ALTCHA's payload, base64), where the app asks for one. */
  altcha: ChallengeAnswer.optional(),
});
export type AcquireInput = z.infer<typeof AcquireInput>;

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** The per-IP quota state after an acquire attempt, for the RateLimit headers. */
export interface RateLimitState {
  hourly: { limit: number; used: number; resetMs: number };
  daily: { limit: number; used: number; resetMs: number };
}

/**
 * Hands out the oldest ready instance of an app: one Redis round trip (the acquire script), which
 * also checks the block list, the proof-of-work gate's replay and the drain caps, and counts the
 * client's hourly and daily quota. A presented answer is verified here first (two HMACs, no I/O);
 * nothing else is called.
 */
export async function acquire(ctx: Ctx, input: AcquireInput & { clientIp: string; actor: Actor; requestId?: string }) {
  const app = input.app ?? DEFAULT_APP;
  // Another tenant's app is answered as one that does not exist (the script's NO_APP below).
  if (!mayUseApp(input.actor, app)) throw new AppError("NOT_FOUND", `app "${app}" not found`);
  const started = performance.now();
  const now = ctx.clock.now();
  const keys = ctx.keys.app(app);
  const ipKey = clientKey(input.clientIp, ctx.config.IPV6_PREFIX_LENGTH);
  const hourWindow = Math.floor(now / HOUR_MS);
  const dayWindow = Math.floor(now / DAY_MS);
  const hourResetMs = (hourWindow + 1) * HOUR_MS - now;
  const dayResetMs = (dayWindow + 1) * DAY_MS - now;
  const caller = callerClass(input.actor);
  // A server-side caller's answer is never needed, so never looked at; a bad one counts only where
  // the app's gate asks for one (the script knows).
  const answer = input.altcha && caller !== "server" ? await checkAnswer(ctx, app, input.altcha) : null;
  const reply = await acquireScript.run(
    ctx.redis,
    {
      ready: keys.ready,
      expiry: keys.expiry,
      cfg: keys.cfg,
      hourCounter: keys.rateLimit(ipKey, `h${hourWindow}`),
      dayCounter: keys.rateLimit(ipKey, `d${dayWindow}`),
      bucket: keys.bucket,
      keyBucket: keys.keyBucket(input.actor.keyId ?? "none"),
      spent: keys.answer(answer?.ok ? answer.id : "none"),
      blocks: keys.blocks,
    },
    {
      nowMs: now,
      clientIp: input.clientIp,
      defaultHourly: ctx.config.RATE_LIMIT_HOURLY,
      defaultDaily: ctx.config.RATE_LIMIT_DAILY,
      hourResetMs,
      dayResetMs,
      instPrefix: keys.instPrefix,
      // The launch page (no key, from PUBLIC_URL) may start only apps whose launch page is on.
      launchOnly: input.actor.kind === "launch" ? 1 : 0,
      defaultLifetimeMs: ctx.config.POOL_MAX_LIFETIME,
      defaultMaxExtensions: ctx.config.POOL_MAX_EXTENSIONS,
      caller,
      answer: answer ? (answer.ok ? answer.expiresAtMs : "bad") : "",
      keyRate: input.actor.kind === "publishable" ? (input.actor.acquireRate ?? 0) : 0,
      blockCandidates: blockCandidates(input.clientIp).join(","),
    },
  );
  // Label values come only from apps that exist: a flood of made-up slugs cannot grow the metrics.
  metrics.acquireDuration.observe({ app: reply.status === "NO_APP" ? "unknown" : app }, (performance.now() - started) / 1000);
  if (reply.status === "NO_APP" || reply.status === "NOT_PUBLIC") {
    metrics.acquisitions.inc({ app: "unknown", result: "unknown_app" });
    throw new AppError("NOT_FOUND", `app "${app}" not found`);
  }
  const rejected = (reason: string) =>
    emitEvent(ctx, { type: "rejected", app, requestId: input.requestId, clientIp: input.clientIp, data: { reason } });
  if (reply.status === "PAUSED") {
    metrics.acquisitions.inc({ app, result: "paused" });
    rejected("paused");
    throw new AppError("APP_PAUSED", "this demo is paused right now; try again later", { retryAfterSeconds: 60 });
  }
  if (reply.status === "BLOCKED") {
    metrics.acquisitions.inc({ app, result: "blocked" });
    rejected("blocked");
    throw new AppError("BLOCKED", "demos cannot be started from this network");
  }
  if (reply.status === "CHALLENGE_REQUIRED" || reply.status === "CHALLENGE_FAILED") {
    metrics.acquisitions.inc({ app, result: "challenge" });
    rejected("challenge");
    if (reply.status === "CHALLENGE_REQUIRED")
      throw new AppError("CHALLENGE_REQUIRED", "this demo starts after a short browser check: fetch a challenge first", {
        details: { challenge_url: "/api/v1/demo/challenge" },
      });
    throw new AppError("CHALLENGE_FAILED", "the browser check did not pass; reload the page and try again", {
      details: { reason: answer && !answer.ok ? answer.reason : "replayed" },
    });
  }
  if (reply.status === "CAPPED") {
    // A drain cap (the app's, or the publishable key's own): for a visitor it is the same as an
    // empty pool, with the time to wait.
    metrics.acquisitions.inc({ app, result: "capped" });
    rejected("capped");
    throw new AppError("POOL_EXHAUSTED", "no demo instance is ready right now; try again shortly", {
      retryAfterSeconds: Math.max(1, Math.ceil(reply.retryMs / 1000)),
      details: { reason: "capped", cap: reply.by },
    });
  }
  const rateLimit: RateLimitState = {
    hourly: { ...reply.hourly, resetMs: hourResetMs },
    daily: { ...reply.daily, resetMs: dayResetMs },
  };
  if (reply.status === "RATE_LIMITED") {
    metrics.acquisitions.inc({ app, result: "rate_limited" });
    rejected("rate_limited");
    const window = rateLimit[reply.window];
    throw new AppError("RATE_LIMITED", `too many demos from this address (${reply.window} limit ${window.limit})`, {
      retryAfterSeconds: Math.ceil(window.resetMs / 1000),
      details: { limit: reply.window },
      headers: rateLimitHeaders(rateLimit),
    });
  }
  if (reply.status === "EMPTY") {
    metrics.acquisitions.inc({ app, result: "exhausted" });
    rejected("exhausted");
    throw new AppError("POOL_EXHAUSTED", "no demo instance is ready right now; try again shortly", {
      retryAfterSeconds: 5,
      headers: rateLimitHeaders(rateLimit),
    });
  }
  metrics.acquisitions.inc({ app, result: "ok" });
  emitEvent(ctx, { type: "acquired", app, instance: reply.id, requestId: input.requestId, clientIp: input.clientIp });
  const view = instanceView(
    ctx.config,
    {
      id: reply.id,
      app,
      createdAtMs: reply.createdAtMs,
      assignedAtMs: now,
      expiresAtMs: reply.expiresAtMs,
      adminPath: reply.adminPath,
      extensions: 0,
      maxExpiresAtMs: reply.maxExpiresAtMs,
      extendMs: reply.extendMs,
      maxExtensions: reply.maxExtensions,
      ctaLabel: reply.ctaLabel,
      ctaUrl: reply.ctaUrl,
    },
    now,
  );
  return {
    // The token lets a browser (publishable key) follow, extend and end this instance, and no other.
    instance: {
      ...view,
      ttl_seconds: Math.round(reply.ttlMs / 1000),
      token: await instanceToken(ctx, view.id),
      ...(reply.signIn ? { credentials: credentialsView(ctx.config, view.id, reply.signIn) } : {}),
    },
    headers: rateLimitHeaders(rateLimit),
  };
}

/** The IETF draft's `RateLimit-Policy` and `RateLimit` headers (no headers when unlimited). */
export function rateLimitHeaders(state: RateLimitState): Record<string, string> {
  const windows = [
    ["hourly", state.hourly, 3600],
    ["daily", state.daily, 86400],
  ] as const;
  const limited = windows.filter(([, window]) => window.limit > 0);
  if (!limited.length) return {};
  return {
    "RateLimit-Policy": limited.map(([name, w, seconds]) => `"${name}";q=${w.limit};w=${seconds}`).join(", "),
    RateLimit: limited
      .map(([name, w]) => `"${name}";r=${Math.max(0, w.limit - w.used)};t=${Math.ceil(w.resetMs / 1000)}`)
      .join(", "),
  };
}
