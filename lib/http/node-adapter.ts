import type { IncomingMessage, ServerResponse } from "node:http";
import { eventStreamOf } from "./event-stream";
import type { RequestView, RouteContext } from "./request";

export type RouteHandler = (request: RequestView, context: RouteContext) => Promise<Response>;

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

/**
 * Serves a route handler (the same `withRoute` function Next.js serves) straight from Node's HTTP
 * server: the fast path of server.ts, where Next.js's per-request routing cost more than the Redis
 * round trip itself. The body is read up to `maxBytes + 1`, so the handler still answers 413. An
 * event stream is passed on as it comes and cancelled when the client goes (an EventStreamBody is
 * written to the socket directly); any other body is sent whole.
 */
export async function serveRouteHandler(
  handler: RouteHandler,
  req: IncomingMessage,
  res: ServerResponse,
  maxBytes: number,
  params: Record<string, string> = {},
): Promise<void> {
  const chunks: Buffer[] = [];
  if (req.method !== "GET" && req.method !== "HEAD") {
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      chunks.push(chunk as Buffer);
      if (size > maxBytes) break; // enough to know it is too large; the rest is not read
    }
  }
  const response = await handler(requestView(req, Buffer.concat(chunks).toString("utf8")), {
    params: Promise.resolve(params),
  });
  const outgoing: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    outgoing[name] = value;
  });
  if (response.body && outgoing["content-type"]?.startsWith("text/event-stream")) {
    res.writeHead(response.status, outgoing);
    res.flushHeaders();
    // A stream of ours is written to the socket as it comes, and nothing here holds the response
    // while it is open; any other is read like a web stream.
    const events = eventStreamOf(response.body);
    return events ? events.pipeTo(res) : pipeStream(response.body, res);
  }
  res.writeHead(response.status, outgoing);
  res.end(Buffer.from(await response.arrayBuffer()));
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
