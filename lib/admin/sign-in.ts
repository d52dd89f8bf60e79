import { createHash } from "node:crypto";
import type { Ctx } from "../context";
import { findAdminUserByEmail, updateAdminUserRow } from "../db/admin-users";
import { AppError } from "../errors";
import { clientKey } from "../net/address";
import { signinAttemptScript, windowCountScript } from "../store/scripts";
import { decoyHash, verifyPassword } from "./password";
import { Email, type Role } from "./users/model";

/** Attempts per (email, client address) and per client address, each in its own window. */
export const SIGN_IN_LIMITS = {
  pair: { max: 10, windowMs: 15 * 60_000 },
  client: { max: 50, windowMs: 60 * 60_000 },
};

export const WRONG_CREDENTIALS = "wrong email or password";

/** Failed sign-ins of one account (from any address) that cost nothing; past them each attempt waits longer. */
export const ACCOUNT_FREE_FAILURES = 5;
const ACCOUNT_WINDOW_MS = 60 * 60_000;
const ACCOUNT_MAX_DELAY_MS = 10_000;

/**
 * How long an attempt on an account waits before its password is checked, after `failures` failed
 * ones in the last hour: nothing up to ACCOUNT_FREE_FAILURES, then 0.5 s doubling to 10 s. A delay,
 * never a lockout: the right password still signs in, so nobody can lock an admin out by guessing.
 */
export function accountDelayMs(failures: number): number {
  if (failures < ACCOUNT_FREE_FAILURES) return 0;
  return Math.min(ACCOUNT_MAX_DELAY_MS, 500 * 2 ** (failures - ACCOUNT_FREE_FAILURES));
}

export interface SignedInUser {
  id: string;
  email: string;
  name: string;
  role: Role;
  sessionVersion: number;
}

/**
 * Checks a dashboard sign-in. Every attempt counts against the (email, client) pair — 10 in 15
 * minutes — and the client — 50 in an hour — atomically in Redis, before the password is checked;
 * nobody can lock an admin out from another address by guessing their email. A success gives the
 * attempt back. Unknown email, wrong password and disabled user are one message; an unknown email
 * still costs a hash check, so timing tells nothing either.
 */
export async function signIn(ctx: Ctx, input: { email: string; password: string; clientIp: string }): Promise<SignedInUser> {
  const email = Email.safeParse(input.email);
  const normalized = email.success ? email.data : input.email.trim().toLowerCase().slice(0, 254);
  const ipKey = clientKey(input.clientIp, ctx.config.IPV6_PREFIX_LENGTH);
  const emailHash = createHash("sha256").update(normalized).digest("hex").slice(0, 32);
  const pairKey = ctx.keys.signinPair(emailHash, ipKey);
  const accountKey = ctx.keys.signinAccount(emailHash);
  const clientCounter = ctx.keys.signinClient(ipKey);
  const attempt = await signinAttemptScript.run(
    ctx.redis,
    { pair: pairKey, client: clientCounter },
    {
      pairMax: SIGN_IN_LIMITS.pair.max,
      clientMax: SIGN_IN_LIMITS.client.max,
      pairWindowMs: SIGN_IN_LIMITS.pair.windowMs,
      clientWindowMs: SIGN_IN_LIMITS.client.windowMs,
    },
  );
  if (attempt.status === "LIMITED") {
    const minutes = Math.max(1, Math.ceil(attempt.retryAfterMs / 60_000));
    throw new AppError("RATE_LIMITED", `too many attempts, try again in ${minutes} minute${minutes === 1 ? "" : "s"}`, {
      retryAfterSeconds: Math.ceil(attempt.retryAfterMs / 1000),
    });
  }
  // Guesses spread over many addresses slow down per account (unknown emails alike: nothing to enumerate).
  const delayMs = accountDelayMs(Number((await ctx.redis.get(accountKey)) ?? 0));
  if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
  const row = email.success ? await findAdminUserByEmail(ctx.db, normalized) : undefined;
  const matches = await verifyPassword(input.password, row?.passwordHash ?? (await decoyHash()));
  if (!row || !matches || row.disabledAt) {
    await windowCountScript.run(ctx.redis, { counter: accountKey }, { windowMs: ACCOUNT_WINDOW_MS });
    throw new AppError("UNAUTHORIZED", WRONG_CREDENTIALS);
  }
  await ctx.redis.pipeline().del(pairKey).decr(clientCounter).del(accountKey).exec();
  await updateAdminUserRow(ctx.db, row.id, { lastLoginAt: new Date() });
  ctx.log.info({ user: row.email, ip: input.clientIp }, "dashboard sign-in");
  return { id: row.id, email: row.email, name: row.name, role: row.role, sessionVersion: row.sessionVersion };
}
