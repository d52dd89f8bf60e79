import { AckPolicy, DiscardPolicy, jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { connect, type NatsConnection, nanos } from "@nats-io/transport-node";

const DAY_NS = 86_400 * 1_000_000_000;
const MIB = 1024 * 1024;

/**
 * The JetStream names of a deployment (ARCHITECTURE.md, "NATS"). The deployment with the default
 * prefix `tin:` uses the plain names (TRYIT_JOBS, tryit.jobs.cleanup, …); another prefix (a test or
 * bench stack on the same NATS) gets its own streams and subjects, as its containers carry their
 * own deployment label, so one never consumes the other's jobs.
 */
export function busNames(prefix: string, eventsMaxBytes = 512 * MIB) {
  const token = prefix.replace(/[^a-z0-9]/gi, "").toLowerCase();
  const plain = token === "tin";
  const suffix = plain ? "" : `_${token.toUpperCase()}`;
  const root = plain ? "tryit" : `tryit.${token}`;
  return {
    // Every stream has a byte limit that discards its oldest messages: no flood fills the disk.
    jobs: { name: `TRYIT_JOBS${suffix}`, subjects: [`${root}.jobs.>`], retention: RetentionPolicy.Workqueue, maxBytes: 64 * MIB },
    dead: {
      name: `TRYIT_DEAD${suffix}`,
      subjects: [`${root}.dead.>`],
      retention: RetentionPolicy.Limits,
      maxAgeNs: 14 * DAY_NS,
      maxBytes: 64 * MIB,
    },
    events: {
      name: `TRYIT_EVENTS${suffix}`,
      subjects: [`${root}.events.>`],
      retention: RetentionPolicy.Limits,
      maxAgeNs: 30 * DAY_NS,
      maxBytes: eventsMaxBytes,
    },
    cleanupSubject: `${root}.jobs.cleanup`,
    eventsSubjectRoot: `${root}.events`,
    eventsConsumer: "events-writer",
    deadCleanupSubject: `${root}.dead.cleanup`,
    cleanupConsumer: "cleanup",
  };
}
export type BusNames = ReturnType<typeof busNames>;

/**
 * The context's NATS connection, or a failure after `timeoutMs`: a publisher on a request's way
 * (a cleanup job, a batch of events) never waits for NATS longer than it can afford.
 */
export async function busWithin(bus: () => Promise<NatsConnection>, timeoutMs: number): Promise<NatsConnection> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`NATS not reachable within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([bus(), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `noAsyncTraces`: the client would otherwise make two error objects (with stacks) for every
 * publish that waits for JetStream's ack, in case it fails — 2 % of a release's CPU in
 * `npm run profile`. A failure still says what failed; it loses only the caller's stack.
 */
export function connectBus(url: string): Promise<NatsConnection> {
  return connect({ servers: url, timeout: 2000, maxReconnectAttempts: -1, name: "tryitnow", noAsyncTraces: true });
}

/**
 * Creates the streams and the cleanup consumer when missing, and brings the consumer's delivery
 * settings to the configured ones. Idempotent; several workers may call it at once.
 */
export async function ensureStreams(
  nc: NatsConnection,
  names: BusNames,
  jobs: { ackWaitMs: number; maxDeliver: number },
): Promise<void> {
  const jsm = await jetstreamManager(nc, { timeout: 3000 });
  for (const stream of [names.jobs, names.dead, names.events]) {
    try {
      const info = await jsm.streams.info(stream.name);
      // A stream made before it had a byte limit (or with another one) gets this one.
      if (info.config.max_bytes !== stream.maxBytes || info.config.discard !== DiscardPolicy.Old) {
        await jsm.streams.update(stream.name, { max_bytes: stream.maxBytes, discard: DiscardPolicy.Old });
      }
    } catch (error) {
      if (!/not found/i.test((error as Error).message)) throw error;
      try {
        await jsm.streams.add({
          name: stream.name,
          subjects: [...stream.subjects],
          retention: stream.retention,
          storage: StorageType.File,
          ...("maxAgeNs" in stream ? { max_age: stream.maxAgeNs } : {}),
          max_bytes: stream.maxBytes,
          discard: DiscardPolicy.Old,
          // Publishing with the instance id as message id: a repeat within 2 minutes is dropped.
          duplicate_window: nanos(120_000),
        });
      } catch (error) {
        // Another worker created it first.
        if (!/already in use|exists/i.test((error as Error).message)) throw error;
      }
    }
  }
  const consumer = {
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(jobs.ackWaitMs),
    max_deliver: jobs.maxDeliver,
    filter_subject: names.cleanupSubject,
  };
  // The events writer: one durable consumer shared by the workers; a batch is acked after its commit.
  try {
    await jsm.consumers.info(names.events.name, names.eventsConsumer);
  } catch {
    try {
      await jsm.consumers.add(names.events.name, {
        durable_name: names.eventsConsumer,
        ack_policy: AckPolicy.Explicit,
        ack_wait: nanos(30_000),
        max_deliver: -1,
      });
    } catch (error) {
      if (!/already in use|exists/i.test((error as Error).message)) throw error;
    }
  }
  try {
    await jsm.consumers.info(names.jobs.name, names.cleanupConsumer);
    await jsm.consumers.update(names.jobs.name, names.cleanupConsumer, consumer);
  } catch {
    try {
      await jsm.consumers.add(names.jobs.name, { durable_name: names.cleanupConsumer, ...consumer });
    } catch (error) {
      if (!/already in use|exists/i.test((error as Error).message)) throw error;
    }
  }
}

/** Round trip to the server and JetStream's account info: the bus is usable. */
export async function busHealth(nc: NatsConnection): Promise<void> {
  await nc.rtt();
  const jsm = await jetstreamManager(nc, { timeout: 2000 });
  await jsm.getAccountInfo();
}
