import { randomUUID } from "node:crypto";

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's `X-Request-ID` when it is sane (length and charset bounded), else a new one. */
export function requestIdOf(incoming: string | null | undefined): string {
  return incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/**
 * The part of a request that route handlers may read. Next.js's `Request` satisfies it, and so does
 * the hot path's light view of Node's request (`node-adapter.ts`): the compiler keeps handlers
 * off everything else, so a route stays servable both ways.
 */
export interface RequestView {
  readonly method: string;
  readonly url: string;
  readonly headers: { get(name: string): string | null };
  /** The body as a stream, or null when it is already buffered (then `text()` has it). */
  readonly body: ReadableStream<Uint8Array> | null;
  text(): Promise<string>;
}

/** What Next.js passes as a route handler's second argument. */
export interface RouteContext {
  params?: Promise<Record<string, string>>;
}
