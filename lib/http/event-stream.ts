import type { ServerResponse } from "node:http";

/**
 * A server-sent event stream as a route handler answers with it (ARCHITECTURE.md, "HTTP API"):
 * `stream` is a real web stream, which Next.js reads like any other body; the fast path
 * (`node-adapter.ts`) takes it over before anyone reads it and writes the text to Node's socket
 * itself. At 10,000 open streams a process, that leaves no reader, no promise per event and no
 * encoded copy of each event in memory: only this object and the socket.
 *
 * The web stream is pulled, with a high-water mark of 0: nothing is moved into it until a reader
 * asks, so text written before the owner is known waits here, in `pending`.
 */
export class EventStreamBody {
  /** Dropped once the fast path writes to the socket: the response that held it is gone by then. */
  private web?: ReadableStream<Uint8Array>;
  private pending: string[] = [];
  private target: { write(text: string): void; close(): void } | null = null;
  private ended = false;
  private cancelled?: () => void;

  constructor() {
    this.web = new ReadableStream<Uint8Array>(
      {
        pull: (controller) => {
          if (this.target) return;
          const encoder = new TextEncoder();
          this.attach({
            write: (text) => controller.enqueue(encoder.encode(text)),
            close: () => controller.close(),
          });
        },
        cancel: () => this.cancel(),
      },
      { highWaterMark: 0 },
    );
    bodies.set(this.web, this);
  }

  /** The body for `new Response(…)`. */
  get stream(): ReadableStream<Uint8Array> {
    if (!this.web) throw new Error("this event stream is written to a socket already");
    return this.web;
  }

  /** Called once when the client goes (or the reader cancels), never after the stream was closed here. */
  onCancel(callback: () => void): void {
    this.cancelled = callback;
  }

  /** Sends text; false when the stream is already over (the client went, or it was closed). */
  write(text: string): boolean {
    if (this.ended) return false;
    if (!this.target) this.pending.push(text);
    else {
      try {
        this.target.write(text);
      } catch {
        this.cancel();
        return false;
      }
    }
    return true;
  }

  /** Ends the stream from this side. */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    try {
      this.target?.close();
    } catch {
      // the client is gone already
    }
  }

  private attach(target: { write(text: string): void; close(): void }): void {
    this.target = target;
    for (const text of this.pending) target.write(text);
    this.pending = [];
    if (this.ended) target.close();
  }

  private cancel(): void {
    if (this.ended) return;
    this.ended = true;
    this.cancelled?.();
  }

  /**
   * Writes straight to Node's response (the fast path): resolves when the response is over. A
   * client that stops reading while more than MAX_BUFFERED bytes wait for it is dropped.
   */
  pipeTo(res: ServerResponse): Promise<void> {
    this.web = undefined;
    return new Promise<void>((resolve) => {
      res.once("close", () => {
        this.cancel();
        resolve();
      });
      this.attach({
        write: (text) => {
          res.write(text);
          if (res.writableLength > MAX_BUFFERED) res.destroy();
        },
        close: () => res.end(),
      });
    });
  }
}

/** What a slow client may have waiting for it before the fast path drops it (its EventSource reconnects). */
const MAX_BUFFERED = 64 * 1024;

const bodies = new WeakMap<ReadableStream, EventStreamBody>();

/** The event stream behind a response's body, when a handler made it with EventStreamBody and no one has read it. */
export function eventStreamOf(body: ReadableStream | null): EventStreamBody | undefined {
  return body && !body.locked ? bodies.get(body) : undefined;
}
