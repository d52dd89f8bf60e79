import { type JsMsg, jetstream } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";
import { z } from "zod";
import type { Ctx } from "../context";
import type { Logger } from "../log";
import { metrics } from "../metrics";
import { parseJson } from "../store/messages";
import { busWithin } from "./nats";

/** A cleanup job: remove what an instance had outside Redis (route, container, id lookup). */
export const CleanupJob = z.object({
  id: z.string(),
  app: z.string(),
  reason: z.enum(["released", "expired"]),
  request_id: z.string().nullable(),
});
export type CleanupJob = z.infer<typeof CleanupJob>;

/** Retry delays after a failed delivery (the last one repeats). */
const BACKOFF_MS = [1000, 3000, 10_000, 30_000];
const IN_FLIGHT = 8;

/**
 * Publishes a cleanup job (message id = instance id, so a repeat is dropped by the stream; the
 * request id in a header). Bounded by `timeoutMs`: the caller decides what a failure means.
 */
export async function publishCleanup(ctx: Ctx, job: CleanupJob, timeoutMs = 2000): Promise<void> {
  const nc = await busWithin(() => ctx.bus(), timeoutMs);
  const h = headers();
  if (job.request_id) h.set("X-Request-ID", job.request_id);
  await jetstream(nc, { timeout: timeoutMs }).publish(ctx.busNames.cleanupSubject, JSON.stringify(job), {
    msgID: job.id,
    headers: h,
  });
}

/** A test may install this (a preload module of its own) to make a handler fail or hang. */
type Fault = (job: CleanupJob) => Promise<void> | void;
const faults = globalThis as unknown as { __tinCleanupFault?: Fault };

/**
 * Consumes cleanup jobs from the durable work-queue consumer: each job goes to one worker; an
 * unacknowledged one goes to another after the ack wait. A failure is retried with back-off; the
 * last failed delivery copies the job to the dead-letter stream with its error, then terminates it.
 */
export async function consumeCleanupJobs(ctx: Ctx, log: Logger, handle: (job: CleanupJob) => Promise<void>) {
  const nc = await ctx.bus();
  const js = jetstream(nc, { timeout: 5000 });
  const consumer = await js.consumers.get(ctx.busNames.jobs.name, ctx.busNames.cleanupConsumer);
  const messages = await consumer.consume({ max_messages: IN_FLIGHT });
  const running = new Set<Promise<void>>();
  let ended = false;
  const loop = (async () => {
    for await (const message of messages) {
      const task = handleMessage(message).finally(() => running.delete(task));
      running.add(task);
      if (running.size >= IN_FLIGHT) await Promise.race(running);
    }
  })().finally(() => {
    ended = true;
  });

  async function handleMessage(message: JsMsg): Promise<void> {
    const job = parseJson(CleanupJob, message.string());
    const attempt = message.info.deliveryCount;
    if (!job) {
      log.warn({ job: message.string().slice(0, 200) }, "malformed cleanup job dropped");
      message.term("malformed");
      return;
    }
    const line = { kind: "cleanup", app: job.app, instance: job.id, reason: job.reason, requestId: job.request_id, attempt };
    const started = performance.now();
    try {
      await faults.__tinCleanupFault?.(job);
      await handle(job);
      message.ack();
      metrics.jobs.inc({ kind: "cleanup", outcome: "ok" });
      log.info({ ...line, durationMs: Math.round(performance.now() - started) }, "instance destroyed");
    } catch (error) {
      const reason = (error as Error).message.slice(0, 500);
      if (attempt >= ctx.config.JOB_MAX_DELIVER) {
        await deadLetter(ctx, job, reason, attempt).catch((deadError: Error) =>
          log.error({ ...line, err: deadError.message }, "could not record the dead letter"),
        );
        message.term(reason);
        metrics.jobs.inc({ kind: "cleanup", outcome: "dead" });
        log.error({ ...line, err: reason }, "cleanup job failed for the last time; kept as a dead letter");
      } else {
        message.nak(BACKOFF_MS[Math.min(attempt - 1, BACKOFF_MS.length - 1)]);
        metrics.jobs.inc({ kind: "cleanup", outcome: "retry" });
        log.warn({ ...line, err: reason }, "cleanup job failed; it will be retried");
      }
    }
  }

  return {
    /** The consumer stopped on its own (its iterator ended or failed): the worker takes jobs again. */
    get ended() {
      return ended;
    },
    /** Stops taking jobs, lets the ones in hand finish (a job not finished in time is redelivered). */
    async stop(timeoutMs: number) {
      await messages.close();
      await Promise.race([Promise.allSettled([...running]), new Promise((resolve) => setTimeout(resolve, timeoutMs))]);
      await loop.catch(() => undefined);
    },
    /** Jobs waiting or in hand across all workers, for `tin_jobs_pending`. */
    async pending(): Promise<number> {
      const info = await consumer.info(true);
      return info.num_pending + info.num_ack_pending;
    },
  };
}

/** The job and why it failed, kept in the dead-letter stream (limits retention, 14 days). */
export const DeadLetter = z.object({
  job: CleanupJob,
  error: z.string(),
  attempts: z.number(),
  failed_at: z.string(),
});
export type DeadLetter = z.infer<typeof DeadLetter>;

async function deadLetter(ctx: Ctx, job: CleanupJob, error: string, attempts: number): Promise<void> {
  const letter: DeadLetter = { job, error, attempts, failed_at: new Date().toISOString() };
  const h = headers();
  if (job.request_id) h.set("X-Request-ID", job.request_id);
  await jetstream(await ctx.bus(), { timeout: 5000 }).publish(ctx.busNames.deadCleanupSubject, JSON.stringify(letter), {
    headers: h,
  });
}
