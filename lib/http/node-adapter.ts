import type { IncomingMessage, ServerResponse } from "node:http";
import { EventStreamBody } from "./event-stream";
import type { Reply } from "./reply";
import type { RequestView, RouteContext } from "./request";

/**
 * A route file's handler as Next.js calls it; `withRoute`'s also carry `reply`, the same handler
 * answering with a `Reply`, which the fast path writes without making a `Response`.
 */
export type RouteHandler = ((request: RequestView, context: RouteContext) => Promise<Response>) & {
  reply?: (request: RequestView, context: RouteContext) => Promise<Reply>;
};

/**
 * The request view a route handler reads (method, url, headers.get, text()), over Node's own
 * request. Building a real `Request` (abort signal, body stream, header validation) cost about a
 * sixth of the hot path's CPU in a profile; this costs next to nothing.
 */
function requestView(req: IncomingMessage, bodyText: string): RequestView {
  return {
    method: req.method ?? "GET",
    url: `http://localhost${req.url ?? "/"}`,
    headers: {
      get(name: string): string | null {
        const value = req.headers[name.toLowerCase()];
        if (value === undefined) return null;
        return Array.isArray(value) ? value.join(", ") : value;
      },
    },
    body: null,
    text: async () => bodyText,
  };
}

export interface ServeOptions {
  /** The body limit: a body is read up to one byte more, so the handler still answers 413. */
  maxBytes: number;
  params?: Record<string, string>;
  /** Headers every response carries (security headers, X-Request-ID), names in lower case. */
  headers?: Record<string, string>;
}

/**
 * Serves a route handler (the same `withRoute` function Next.js serves) straight from Node's HTTP
 * server: the fast path of server.ts, where Next.js's per-request routing cost more than the Redis
 * round trip itself. A `Reply` is written as it is (an event stream as it comes, cancelled when the client goes); a
 * handler without one (the widget's scripts) answers with a `Response`, whose body is sent whole
 * or, for a stream, as it comes.
 */
export async function serveRouteHandler(
  handler: RouteHandler,
  req: IncomingMessage,
  res: ServerResponse,
  options: ServeOptions,
): Promise<void> {
  const { maxBytes, params = {}, headers = {} } = options;
  const chunks: Buffer[] = [];
  if (req.method !== "GET" && req.method !== "HEAD") {
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      chunks.push(chunk as Buffer);
      if (size > maxBytes) break; // enough to know it is too large; the rest is not read
    }
  }
  const request = requestView(req, chunks.length === 0 ? "" : Buffer.concat(chunks).toString("utf8"));
  const context = { params: Promise.resolve(params) };
  if (handler.reply) return writeReply(await handler.reply(request, context), res, headers);
  const response = await handler(request, context);
  const outgoing: Record<string, string> = { ...headers };
  response.headers.forEach((value, name) => {
    outgoing[name] = value;
  });
  res.writeHead(response.status, outgoing);
  if (response.body && outgoing["content-type"]?.startsWith("text/event-stream")) {
    res.flushHeaders();
    return pipeStream(response.body, res);
  }
  res.end(Buffer.from(await response.arrayBuffer()));
}

/** The reply's own headers win over the base ones (lower case both, so each name is sent once). */
function writeReply(reply: Reply, res: ServerResponse, base: Record<string, string>): Promise<void> | undefined {
  const { body } = reply;
  for (const name in base) if (!(name in reply.headers)) reply.headers[name] = base[name];
  if (!(body instanceof EventStreamBody)) {
    // With its length, as Next.js sends it (writeHead before end would otherwise mean chunks);
    // none on a reply without a body (204, 304).
    if (body !== null) reply.setHeader("content-length", String(Buffer.byteLength(body)));
    res.writeHead(reply.status, reply.headers);
    res.end(body ?? undefined);
    return;
  }
  res.writeHead(reply.status, reply.headers);
  res.flushHeaders();
  // Written to the socket as it comes: nothing here holds the response while it is open.
  return body.pipeTo(res);
}

/** Writes a web stream to the socket as it comes, waiting when the socket is full; ends with the client. */
async function pipeStream(body: ReadableStream<Uint8Array>, res: ServerResponse): Promise<void> {
  const reader = body.getReader();
  let closed = false;
  const onClose = () => {
    closed = true;
    reader.cancel().catch(() => undefined);
  };
  res.once("close", onClose);
  try {
    while (!closed) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value) && !closed)
        await new Promise<void>((resolve) => {
          const go = () => {
            res.off("drain", go);
            res.off("close", go);
            resolve();
          };
          res.on("drain", go);
          res.on("close", go);
        });
    }
  } catch {
    // The stream failed or was cancelled: the client's end is closed below.
  } finally {
    res.off("close", onClose);
    if (!res.writableEnded) res.end();
  }
}
