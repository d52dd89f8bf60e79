import type { IncomingMessage, ServerResponse } from "node:http";

type FetchHandler = (request: Request, context: { params?: Promise<Record<string, string>> }) => Promise<Response>;

/**
 * Serves a route handler (the same `withRoute` function Next.js serves) straight from Node's HTTP
 * server. Used for the acquire hot path, where Next.js's per-request routing would cost more than
 * the Redis round trip itself. The body is read up to `maxBytes + 1`, so the handler still answers 413.
 */
export async function serveFetchHandler(
  handler: FetchHandler,
  req: IncomingMessage,
  res: ServerResponse,
  maxBytes: number,
): Promise<void> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  let body: ArrayBuffer | undefined;
  if (req.method !== "GET" && req.method !== "HEAD") {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      chunks.push(chunk as Buffer);
      if (size > maxBytes) break; // enough to know it is too large; the rest is not read
    }
    const merged = Buffer.concat(chunks);
    body = merged.buffer.slice(merged.byteOffset, merged.byteOffset + merged.byteLength) as ArrayBuffer;
  }
  const request = new Request(`http://localhost${req.url ?? "/"}`, { method: req.method, headers, body });
  const response = await handler(request, { params: Promise.resolve({}) });
  const outgoing: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    outgoing[name] = value;
  });
  res.writeHead(response.status, outgoing);
  res.end(Buffer.from(await response.arrayBuffer()));
}
