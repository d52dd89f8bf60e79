import { jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";

/** The JetStream streams (ARCHITECTURE.md, "NATS"): jobs (work queue) and analytics events (limits). */
export const STREAMS = {
  jobs: { name: "TRYIT_JOBS", subjects: ["tryit.jobs.>"], retention: RetentionPolicy.Workqueue },
  events: { name: "TRYIT_EVENTS", subjects: ["tryit.events.>"], retention: RetentionPolicy.Limits },
} as const;

const EVENTS_MAX_AGE_NS = 30 * 86_400 * 1_000_000_000;

export function connectBus(url: string): Promise<NatsConnection> {
  return connect({ servers: url, timeout: 2000, maxReconnectAttempts: -1, name: "tryitnow" });
}

/** Creates the streams when missing. Idempotent; several workers may call it at once. */
export async function ensureStreams(nc: NatsConnection): Promise<void> {
  const jsm = await jetstreamManager(nc, { timeout: 3000 });
  for (const stream of Object.values(STREAMS)) {
    try {
      await jsm.streams.info(stream.name);
    } catch {
      try {
        await jsm.streams.add({
          name: stream.name,
          subjects: [...stream.subjects],
          retention: stream.retention,
          storage: StorageType.File,
          ...(stream === STREAMS.events ? { max_age: EVENTS_MAX_AGE_NS } : {}),
        });
      } catch (error) {
        // Another worker created it first.
        if (!/already in use|exists/i.test((error as Error).message)) throw error;
      }
    }
  }
}

/** Round trip to the server and JetStream's account info: the bus is usable. */
export async function busHealth(nc: NatsConnection): Promise<void> {
  await nc.rtt();
  const jsm = await jetstreamManager(nc, { timeout: 2000 });
  await jsm.getAccountInfo();
}
