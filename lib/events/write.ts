import { jetstream, type JsMsg } from "@nats-io/jetstream";
import type { Ctx } from "../context";
import { events } from "../db/schema";
import type { Logger } from "../log";
import { metrics } from "../metrics";
import { parseJson } from "../store/messages";
import { EventMessage } from "./model";

const BATCH = 500;
const WAIT_MS = 1000;
const INSERT_ROWS = 1000;

/**
 * Writes funnel events from TRYIT_EVENTS into MariaDB in batches: multi-row INSERT IGNOREs in one
 * transaction per fetched batch (the event id is the primary key, so a redelivered event never makes
 * a second row), and the batch is acknowledged only after its commit. A worker killed mid-batch loses nothing: its
 * unacknowledged messages are delivered again after the ack wait.
 */
export async function writeEvents(ctx: Ctx, log: Logger, stopped: () => boolean): Promise<void> {
  const js = jetstream(await ctx.bus(), { timeout: 5000 });
  const consumer = await js.consumers.get(ctx.busNames.events.name, ctx.busNames.eventsConsumer);
  while (!stopped()) {
    const messages = await consumer.fetch({ max_messages: BATCH, expires: WAIT_MS });
    const batch: JsMsg[] = [];
    for await (const message of messages) batch.push(message);
    if (!batch.length) continue;
    const rows: (typeof events.$inferInsert)[] = [];
    for (const message of batch) {
      const parsed = parseJson(EventMessage, message.string());
      if (!parsed) {
        log.warn({ event: message.string().slice(0, 200) }, "malformed analytics event dropped");
        continue;
      }
      for (const event of parsed) {
        rows.push({
          id: event.id,
          type: event.type,
          app: event.app,
          instance: event.instance,
          at: new Date(event.atMs),
          requestId: event.request_id,
          visitor: event.visitor,
          data: event.data,
        });
      }
    }
    // One transaction per fetched batch, in statements of at most 1,000 rows (messages may carry 500 each).
    if (rows.length) {
      await ctx.db.transaction(async (tx) => {
        for (let start = 0; start < rows.length; start += INSERT_ROWS) await tx.insert(events).ignore().values(rows.slice(start, start + INSERT_ROWS));
      });
    }
    for (const message of batch) message.ack();
    metrics.eventsWritten.inc(rows.length);
  }
}
