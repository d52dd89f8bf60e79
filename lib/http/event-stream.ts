import type { ServerResponse } from "node:http";

/**
 * A server-sent event stream as a route handler answers with it (ARCHITECTURE.md, "HTTP API"), in
 * a `Reply` (`reply.ts`). The fast path (`node-adapter.ts`) writes its text to Node's socket
 * itself; Next.js reads `stream`, a web stream made only when asked for. At 10,000 open streams a
 * process, the fast path leaves no web stream, no reader, no promise per event and no encoded copy
 * of each event in memory: only this object and the socket.
 *
 * The web stream is pulled, with a high-water mark of 0: nothing is moved into it until a reader
 * asks, so text written before the owner is known waits here, in `pending`.
 */
export class EventStreamBody {
  private web?: ReadableStream<Uint8Array>;
  /** Set once the fast path writes to the socket: there is no web stream to give out after that. */
  private onSocket = false;
  private pending: string[] = [];
  private target: { write(text: string): void; close(): void } | null = null;
  private ended = false;
  private cancelled?: () => void;

  /** The body as a web stream, for `new Response(…)` (Next.js's router). */
  get stream(): ReadableStream<Uint8Array> {
    if (this.onSocket) throw new Error("this event stream is written to a socket already");
    this.web ??= new ReadableStream<Uint8Array>(
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
    if (this.web) throw new Error("this event stream is read as a web stream already");
    this.onSocket = true;
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
