import { type JsMsg, jetstream } from "@nats-io/jetstream";
import type { Ctx } from "../context";
import { storeEvents } from "../db/events";
import type { Logger } from "../log";
import { metrics } from "../metrics";
import { parseJson } from "../store/messages";
import { type AnalyticsEvent, EventMessage } from "./model";

const BATCH = 500;
/** A fetch ends after this when fewer than BATCH messages wait (heartbeats every half of it). */
const WAIT_MS = 3000;
/** A fetch still open this long after it should have ended is abandoned (seen under CPU starvation). */
const FETCH_GUARD_MS = 5000;

/**
 * Writes funnel events from TRYIT_EVENTS into MariaDB in batches (ARCHITECTURE.md, "Funnel
 * analytics"): one transaction per fetched batch inserts the events (INSERT IGNORE: the event id is
 * the primary key, so a redelivered event never makes a second row), then counts exactly the rows it
 * inserted into the hourly rollups and applies them to the instance sessions. The batch is
 * acknowledged only after the commit: a worker killed mid-batch loses nothing, and what it had
 * written is not counted twice when the batch comes again.
 */
export async function writeEvents(
  ctx: Ctx,
  log: Logger,
  stopped: () => boolean,
  progress: () => void = () => undefined,
): Promise<void> {
  const js = jetstream(await ctx.bus(), { timeout: 5000 });
  const consumer = await js.consumers.get(ctx.busNames.events.name, ctx.busNames.eventsConsumer);
  while (!stopped()) {
    const batch = await fetchBatch(consumer);
    progress();
    if (!batch.length) continue;
    const parsed: AnalyticsEvent[] = [];
    for (const message of batch) {
      const list = parseJson(EventMessage, message.string());
      if (list) parsed.push(...list);
      else log.warn({ event: message.string().slice(0, 200) }, "malformed analytics event dropped");
    }
    const written = parsed.length ? await storeEvents(ctx, parsed) : 0;
    for (const message of batch) message.ack();
    metrics.eventsWritten.inc(written);
  }
}

type Consumer = Awaited<ReturnType<ReturnType<typeof jetstream>["consumers"]["get"]>>;

/**
 * Up to BATCH messages. A fetch that fails after delivering some (missed heartbeats when the process
 * or the server was starved of CPU) still yields those; one that never ends is abandoned after a
 * guard time, so the writer cannot hang on it. What is not acknowledged is delivered again.
 */
async function fetchBatch(consumer: Consumer): Promise<JsMsg[]> {
  const messages = await consumer.fetch({ max_messages: BATCH, expires: WAIT_MS });
  const batch: JsMsg[] = [];
  let failure: unknown;
  const collected = (async () => {
    for await (const message of messages) batch.push(message);
  })().catch((error: unknown) => {
    failure = error;
  });
  let guard: NodeJS.Timeout | undefined;
  await Promise.race([collected, new Promise((resolve) => (guard = setTimeout(resolve, WAIT_MS + FETCH_GUARD_MS)))]);
  clearTimeout(guard);
  messages.stop();
  if (failure && !batch.length) throw failure;
  return batch.splice(0); // what came in before a failure or the guard
}
