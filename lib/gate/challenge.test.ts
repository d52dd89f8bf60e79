import { solveChallenge, verifySolution } from "altcha-lib";
import { deriveKey } from "altcha-lib/algorithms/sha";
import { describe, expect, it } from "vitest";
import { type Clock, ManualClock, systemClock } from "../clock";
import { type Ctx, serviceSlots } from "../context";
import { derivedKey } from "../secrets";
import { checkAnswer, issueChallenge } from "./challenge";
import { callerClass, challengeRequired } from "./policy";

/** Enough of a context for the gate: the deployment's secret, the challenge lifetime and a clock. */
const ctxWith = (ttlMs: number, clock: Clock = systemClock) =>
  ({ config: { AUTH_SECRET: "s".repeat(40), CHALLENGE_TTL: ttlMs }, clock, ...serviceSlots() }) as unknown as Ctx;

async function answerTo(ctx: Ctx, app: string): Promise<string> {
  const challenge = await issueChallenge(ctx, app, 2_000);
  const solution = await solveChallenge({ challenge, deriveKey });
  return Buffer.from(JSON.stringify({ challenge, solution })).toString("base64");
}

describe("challenges", () => {
  it("verify with the deployment's secret, for their own app, until they expire", async () => {
    const ctx = ctxWith(60_000);
    const answer = await answerTo(ctx, "shop");
    expect(await checkAnswer(ctx, "shop", answer)).toMatchObject({ ok: true, id: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(await checkAnswer(ctx, "blog", answer)).toEqual({ ok: false, reason: "other_app" });
    expect(await checkAnswer(ctx, "shop", "%%%")).toEqual({ ok: false, reason: "malformed" });
    const stale = ctxWith(-120_000);
    expect(await checkAnswer(stale, "shop", await answerTo(stale, "shop"))).toEqual({ ok: false, reason: "expired" });
    // The same answer, good a second before its lifetime ends, is expired a second after it.
    const clock = new ManualClock();
    const timed = ctxWith(60_000, clock);
    const kept = await answerTo(timed, "shop");
    clock.advance(59_000);
    expect(await checkAnswer(timed, "shop", kept)).toMatchObject({ ok: true });
    clock.advance(2_000);
    expect(await checkAnswer(timed, "shop", kept)).toEqual({ ok: false, reason: "expired" });
  });

  it("reach the verdicts of altcha-lib's own verifySolution on good, forged and tampered answers", async () => {
    const ctx = ctxWith(60_000);
    const good = JSON.parse(Buffer.from(await answerTo(ctx, "shop"), "base64").toString());
    const forged = structuredClone(good);
    forged.solution.derivedKey = forged.solution.derivedKey.replace(/^./, (c: string) => (c === "a" ? "b" : "a"));
    const tampered = structuredClone(good);
    tampered.challenge.parameters.keyPrefix = "00";
    const secrets = {
      hmacSignatureSecret: (await derivedKey(ctx, "challenge")).toString("hex"),
      hmacKeySignatureSecret: (await derivedKey(ctx, "challenge-key")).toString("hex"),
    };
    for (const [payload, verdict] of [
      [good, true],
      [forged, false],
      [tampered, false],
    ] as const) {
      const library = await verifySolution({ challenge: payload.challenge, solution: payload.solution, deriveKey, ...secrets });
      const ours = await checkAnswer(ctx, "shop", Buffer.from(JSON.stringify(payload)).toString("base64"));
      expect(library.verified).toBe(verdict);
      expect(ours.ok).toBe(verdict);
    }
  });

  it("ask visitors under auto, every caller without a secret under pow, and no server caller ever", () => {
    const kinds = ["open", "env", "secret", "publishable", "launch", "user", "instance"] as const;
    const asked = (gate: "auto" | "pow" | "none") => kinds.filter((kind) => challengeRequired(gate, callerClass({ kind })));
    expect(asked("auto")).toEqual(["publishable", "launch"]);
    expect(asked("pow")).toEqual(["publishable", "launch", "user", "instance"]);
    expect(asked("none")).toEqual([]);
  });
});
