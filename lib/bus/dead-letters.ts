import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";
import type { Ctx } from "../context";
import { AppError } from "../errors";
import { parseJson } from "../store/messages";
import { DeadLetter } from "./jobs";

/** A dead letter as the stream holds it: its sequence (its id), the letter, the request id it carried. */
export interface StoredLetter {
  seq: number;
  letter: DeadLetter;
  /** The header's, else the job's own. */
  requestId: string | null;
}

async function manager(ctx: Ctx) {
  try {
    return await jetstreamManager(await ctx.bus(), { timeout: 3000 });
  } catch {
    throw new AppError("UNAVAILABLE", "the job bus is not reachable right now", {
      retryAfterSeconds: 5,
      details: { dependency: "nats" },
    });
  }
}

/**
 * The newest dead letters that `keep` accepts, at most `limit`, newest first, and how many the stream
 * holds. A letter already retried (deleted) or unreadable is skipped.
 */
export async function readDeadLetters(ctx: Ctx, limit: number, keep: (letter: DeadLetter) => boolean) {
  const jsm = await manager(ctx);
  const { state } = await jsm.streams.info(ctx.busNames.dead.name);
  const letters: StoredLetter[] = [];
  for (let seq = state.last_seq; seq >= state.first_seq && seq > 0 && letters.length < limit; seq -= 1) {
    const stored = await readDeadLetter(ctx, seq);
    if (stored && keep(stored.letter)) letters.push(stored);
  }
  return { letters, total: state.messages };
}

/** One dead letter by its sequence, or null. */
export async function readDeadLetter(ctx: Ctx, seq: number): Promise<StoredLetter | null> {
  const jsm = await manager(ctx);
  const stored = await jsm.streams.getMessage(ctx.busNames.dead.name, { seq }).catch(() => null);
  const letter = stored ? parseJson(DeadLetter, stored.string()) : undefined;
  if (!stored || !letter) return null;
  return { seq, letter, requestId: stored.header?.get("X-Request-ID") || letter.job.request_id };
}

/** Puts a dead letter's job on the work queue again (a fresh message) and removes the letter. */
export async function requeueDeadLetter(ctx: Ctx, stored: StoredLetter, requestId: string | null): Promise<void> {
  const h = headers();
  if (requestId) h.set("X-Request-ID", requestId);
  // A new message id: the original's may still be inside the stream's duplicate window.
  await jetstream(await ctx.bus(), { timeout: 5000 }).publish(ctx.busNames.cleanupSubject, JSON.stringify(stored.letter.job), {
    msgID: `${stored.letter.job.id}-retry-${stored.seq}-${ctx.clock.now()}`,
    headers: h,
  });
  await (await manager(ctx)).streams.deleteMessage(ctx.busNames.dead.name, stored.seq, false);
}
