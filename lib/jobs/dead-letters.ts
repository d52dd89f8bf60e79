/**
 * The dead letters' verbs (ARCHITECTURE.md, "NATS"): what a caller may see of them and retry, with
 * the audit entry; the stream itself is lib/bus/dead-letters.ts.
 */
import type { Caller } from "../audit/model";
import { recordAudit } from "../audit/record";
import { readDeadLetter, readDeadLetters, requeueDeadLetter } from "../bus/dead-letters";
import type { Ctx } from "../context";
import { notFound } from "../errors";
import { mayUseApp } from "../keys/authenticate";

const SHOWN = 100;

/** The latest dead letters (jobs that failed every delivery) of the caller's apps, newest first; their id is the stream sequence. */
export async function listDeadLetters(ctx: Ctx, caller: Pick<Caller, "apps">) {
  const { letters, total } = await readDeadLetters(ctx, SHOWN, (letter) => mayUseApp(caller, letter.job.app));
  const dead = letters.map(({ seq, letter, requestId }) => ({
    id: String(seq),
    kind: "cleanup",
    ...letter,
    request_id: requestId,
  }));
  // A restricted key counts only its apps' letters (among the latest it was shown).
  return { dead, total: caller.apps === null ? total : dead.length };
}

/** Runs a dead letter's job again (a fresh job on the work queue) and removes the letter. */
export async function retryDeadLetter(ctx: Ctx, id: string, caller: Caller) {
  if (!/^\d{1,15}$/.test(id)) throw notFound("dead letter");
  const stored = await readDeadLetter(ctx, Number(id));
  if (!stored || !mayUseApp(caller, stored.letter.job.app)) throw notFound("dead letter");
  await requeueDeadLetter(ctx, stored, caller.requestId);
  await recordAudit(ctx, caller, {
    action: "job.retry",
    targetKind: "instance",
    target: stored.letter.job.id,
    summary: { dead_letter: id, error: stored.letter.error },
  });
  return { id, status: "retried" as const, job: stored.letter.job };
}
