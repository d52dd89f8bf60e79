import { EventStreamBody } from "./event-stream";

/** What a reply carries: text (JSON, metrics, CSV), an event stream, or nothing. */
export type ReplyBody = string | EventStreamBody | null;

/**
 * A route handler's answer (ARCHITECTURE.md, "HTTP API"): status, headers and a body that is
 * already text. The fast path (`node-adapter.ts`) writes it to Node's socket as it is;
 * Next.js gets a `Response` made from it (`toResponse`). A `Response` per request — its Headers,
 * its body stream, `Response.json`'s encoding — was about a twentieth of a verb's CPU in
 * `npm run profile`, and the fast path read it all back out again. Header names are kept in lower
 * case, so setting one twice in different case cannot send it twice.
 */
export class Reply {
  readonly headers: Record<string, string> = {};

  constructor(
    readonly status: number,
    headers: Record<string, string>,
    readonly body: ReplyBody,
  ) {
    for (const name of Object.keys(headers)) this.headers[name.toLowerCase()] = headers[name];
  }

  setHeader(name: string, value: string): void {
    this.headers[name.toLowerCase()] = value;
  }

  /** Adds to a list-valued header (`Vary`), as `Headers.append` does. */
  appendHeader(name: string, value: string): void {
    const key = name.toLowerCase();
    const current = this.headers[key];
    this.headers[key] = current ? `${current}, ${value}` : value;
  }

  /** The same answer as a web `Response`, for Next.js's router (`next dev`, `next start`, API_DISPATCH=next). */
  toResponse(): Response {
    const body = this.body instanceof EventStreamBody ? this.body.stream : this.body;
    return new Response(body as BodyInit | null, { status: this.status, headers: this.headers });
  }
}

/** A reply with a body of any kind (the JSON helpers are `json` and `errorReply` in envelope.ts). */
export function reply(body: ReplyBody, init: { status?: number; headers?: Record<string, string> } = {}): Reply {
  return new Reply(init.status ?? 200, init.headers ?? {}, body);
}
