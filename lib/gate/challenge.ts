import { createHmac, timingSafeEqual } from "node:crypto";
import { type Challenge, createChallenge, randomInt } from "altcha-lib";
import { deriveKey } from "altcha-lib/algorithms/sha";
import { z } from "zod";
import type { Ctx } from "../context";
import { AppError } from "../errors";
import { type Actor, mayUseApp } from "../keys/authenticate";
import { clientKey } from "../net/address";
import { derivedKey } from "../secrets";
import { challengeScript } from "../store/scripts";
import { callerClass, challengeRequired, gateOf } from "./policy";

/**
 * The proof-of-work gate's challenges (ARCHITECTURE.md, "Drain protection"): ALTCHA v2 in its
 * deterministic mode. The server picks the counter, so it knows the derived key and signs it
 * (`keySignature`): verifying a solution costs two HMACs, never a key derivation. SHA-256 with one
 * round per counter: the browser's work is the counter, the app's `gate_difficulty` at most.
 */
const ALGORITHM = "SHA-256";

/** An ALTCHA payload as the widget sends it (base64 of `{challenge, solution}`); a bounded field of the acquire body. */
export const ChallengeAnswer = z.string().min(1).max(4096);

const Payload = z.object({
  challenge: z.object({
    parameters: z
      .object({
        algorithm: z.literal(ALGORITHM),
        nonce: z.string().regex(/^[0-9a-f]{32}$/),
        salt: z.string(),
        cost: z.number(),
        keyLength: z.number(),
        keyPrefix: z.string(),
        keySignature: z.string(),
        expiresAt: z.number(),
        data: z.object({ app: z.string() }).loose(),
      })
      .loose(),
    signature: z.string(),
  }),
  solution: z.object({ counter: z.number(), derivedKey: z.string() }).loose(),
});

/** The two HMAC secrets of the gate, as altcha-lib takes them (hex strings), derived once per context. */
function secrets(ctx: Ctx) {
  const slot = ctx.service("gate-secrets", () => ({ secrets: undefined as Promise<GateSecrets> | undefined }));
  slot.secrets ??= Promise.all([derivedKey(ctx, "challenge"), derivedKey(ctx, "challenge-key")])
    .then(([challenge, key]) => ({ hmacSignatureSecret: challenge.toString("hex"), hmacKeySignatureSecret: key.toString("hex") }))
    .catch((error) => {
      slot.secrets = undefined; // derived again on next use
      throw error;
    });
  return slot.secrets;
}

type GateSecrets = { hmacSignatureSecret: string; hmacKeySignatureSecret: string };

/** A signed challenge for one app, valid CHALLENGE_TTL; solving it takes `difficulty` hashes at most. */
export async function issueChallenge(ctx: Ctx, app: string, difficulty: number): Promise<Challenge> {
  return createChallenge({
    algorithm: ALGORITHM,
    cost: 1,
    counter: randomInt(difficulty, Math.max(1, Math.ceil(difficulty / 2))),
    deriveKey,
    data: { app },
    expiresAt: Math.floor((ctx.clock.now() + ctx.config.CHALLENGE_TTL) / 1000),
    ...(await secrets(ctx)),
  });
}

/** Why an answer was refused (`details.reason` of 403 CHALLENGE_FAILED; `replayed` is the acquire script's). */
export type AnswerFailure = "malformed" | "expired" | "invalid" | "other_app";

/** An answer checked: its id (the challenge's nonce) and its challenge's expiry for the replay check, or why it failed. */
export type CheckedAnswer = { ok: true; id: string; expiresAtMs: number } | { ok: false; reason: AnswerFailure };

/**
 * Checks an answer for `app`: signed by us, for this app, not expired, the right key. Whether the
 * app wants one at all, and whether it was spent already, is the acquire script's to say.
 *
 * The same checks as altcha-lib's `verifySolution` with a key signature (its path 4a), done with
 * `node:crypto`'s HMAC: the library imports a WebCrypto key for every HMAC, which cost the acquire
 * about 40 % of its throughput in the bench; this costs two HMACs. A unit test
 * (`challenge.test.ts`) holds both to the same verdicts.
 */
export async function checkAnswer(ctx: Ctx, app: string, answer: string): Promise<CheckedAnswer> {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(answer, "base64").toString("utf8"));
  } catch {
    return { ok: false, reason: "malformed" };
  }
  const parsed = Payload.safeParse(decoded);
  if (!parsed.success) return { ok: false, reason: "malformed" };
  const { challenge, solution } = parsed.data;
  if (challenge.parameters.data.app !== app) return { ok: false, reason: "other_app" };
  const { hmacSignatureSecret, hmacKeySignatureSecret } = await secrets(ctx);
  // Signed over the parameters exactly as they came (keys sorted, as altcha-lib signs them).
  const raw = (decoded as { challenge: { parameters: Record<string, unknown> } }).challenge.parameters;
  if (!sameHex(challenge.signature, hmacHex(hmacSignatureSecret, JSON.stringify(sortKeys(raw)))))
    return { ok: false, reason: "invalid" };
  if (challenge.parameters.expiresAt * 1000 < ctx.clock.now()) return { ok: false, reason: "expired" };
  if (
    !/^(?:[0-9a-f]{2})+$/.test(solution.derivedKey) ||
    !Number.isInteger(solution.counter) ||
    solution.counter < 0 ||
    solution.counter > 0xffffffff
  ) {
    return { ok: false, reason: "invalid" };
  }
  if (!sameHex(challenge.parameters.keySignature, hmacHex(hmacKeySignatureSecret, Buffer.from(solution.derivedKey, "hex")))) {
    return { ok: false, reason: "invalid" };
  }
  return { ok: true, id: challenge.parameters.nonce, expiresAtMs: challenge.parameters.expiresAt * 1000 };
}

function hmacHex(secret: string, data: string | Buffer): string {
  return createHmac("sha256", secret).update(data).digest("hex");
}

function sameHex(presented: string, expected: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Object keys sorted at every level, undefined values left out: altcha-lib's canonical form. */
function sortKeys(value: unknown): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .flatMap((key) => {
        const inner = (value as Record<string, unknown>)[key];
        return inner === undefined ? [] : [[key, sortKeys(inner)]];
      }),
  );
}

/**
 * What the challenge endpoint answers a caller about an app: no challenge (the app or the caller
 * is not gated), or one to solve. One Redis round trip, which also counts the client's challenges.
 */
export async function challengeFor(
  ctx: Ctx,
  input: { app: string; actor: Actor; clientIp: string },
): Promise<{ required: false } | { required: true; challenge: Challenge }> {
  if (!mayUseApp(input.actor, input.app)) throw new AppError("NOT_FOUND", `app "${input.app}" not found`);
  const keys = ctx.keys.app(input.app);
  const minute = Math.floor(ctx.clock.now() / 60_000);
  const reply = await challengeScript.run(
    ctx.redis,
    { cfg: keys.cfg, counter: keys.challenges(clientKey(input.clientIp, ctx.config.IPV6_PREFIX_LENGTH), minute) },
    { launchOnly: input.actor.kind === "launch" ? 1 : 0, limit: ctx.config.CHALLENGE_RATE_PER_MINUTE },
  );
  if (reply.status === "NO_APP" || reply.status === "NOT_PUBLIC") throw new AppError("NOT_FOUND", `app "${input.app}" not found`);
  if (reply.status === "RATE_LIMITED") {
    throw new AppError(
      "RATE_LIMITED",
      `too many browser checks from this address (${ctx.config.CHALLENGE_RATE_PER_MINUTE} a minute)`,
      {
        retryAfterSeconds: 60 - Math.floor((ctx.clock.now() % 60_000) / 1000),
      },
    );
  }
  if (!challengeRequired(gateOf(reply.gate), callerClass(input.actor))) return { required: false };
  return { required: true, challenge: await issueChallenge(ctx, input.app, reply.difficulty) };
}
