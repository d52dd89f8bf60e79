import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";
import type { Caller } from "../audit/model";
import { recordAudit } from "../audit/record";
import type { Ctx } from "../context";
import { AppError, notFound } from "../errors";
import { mayUseApp } from "../keys/authenticate";
import { parseJson } from "../store/messages";
import { DeadLetter } from "./jobs";

const SHOWN = 100;

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

/** The latest dead letters (jobs that failed every delivery), newest first; their id is the stream sequence. */
export async function listDeadLetters(ctx: Ctx, caller: Pick<Caller, "apps">) {
  const jsm = await manager(ctx);
  const { state } = await jsm.streams.info(ctx.busNames.dead.name);
  const letters = [];
  for (let seq = state.last_seq; seq >= state.first_seq && seq > 0 && letters.length < SHOWN; seq -= 1) {
    const stored = await jsm.streams.getMessage(ctx.busNames.dead.name, { seq }).catch(() => null);
    if (!stored) continue; // deleted (retried)
    const letter = parseJson(DeadLetter, stored.string());
    if (!letter || !mayUseApp(caller, letter.job.app)) continue;
    letters.push({
      id: String(seq),
      kind: "cleanup",
      ...letter,
      request_id: stored.header?.get("X-Request-ID") || letter.job.request_id,
    });
  }
  // A restricted key counts only its apps' letters (among the latest it was shown).
  return { dead: letters, total: caller.apps === null ? state.messages : letters.length };
}

/** Runs a dead letter's job again (a fresh job on the work queue) and removes the letter. */
export async function retryDeadLetter(ctx: Ctx, id: string, caller: Caller) {
  if (!/^\d{1,15}$/.test(id)) throw notFound("dead letter");
  const jsm = await manager(ctx);
  const stored = await jsm.streams.getMessage(ctx.busNames.dead.name, { seq: Number(id) }).catch(() => null);
  const letter = stored ? parseJson(DeadLetter, stored.string()) : undefined;
  if (!stored || !letter || !mayUseApp(caller, letter.job.app)) throw notFound("dead letter");
  const h = headers();
  if (caller.requestId) h.set("X-Request-ID", caller.requestId);
  // A new message id: the original's may still be inside the stream's duplicate window.
  await jetstream(await ctx.bus(), { timeout: 5000 }).publish(ctx.busNames.cleanupSubject, JSON.stringify(letter.job), {
    msgID: `${letter.job.id}-retry-${id}-${Date.now()}`,
    headers: h,
  });
  await jsm.streams.deleteMessage(ctx.busNames.dead.name, Number(id), false);
  await recordAudit(ctx, caller, {
    action: "job.retry",
    targetKind: "instance",
    target: letter.job.id,
    summary: { dead_letter: id, error: letter.error },
  });
  return { id, status: "retried" as const, job: letter.job };
}
