import { createServer, get, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { EventStreamBody } from "./event-stream";

/** Reads a web stream to its end as text. */
async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text();
}

let server: Server | undefined;
afterEach(() => {
  server?.closeAllConnections();
  server?.close();
  server = undefined;
});

/** A real loopback server whose one response is `body` taken over by the fast path's pipeTo. */
async function served(body: EventStreamBody): Promise<{ response: IncomingMessage; over: Promise<void> }> {
  let over: Promise<void> = Promise.resolve();
  server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.flushHeaders();
    over = body.pipeTo(res);
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const response = await new Promise<IncomingMessage>((resolve) => get({ host: "127.0.0.1", port, agent: false }, resolve));
  return { response, over };
}

describe("an event stream's body", () => {
  it("read as a web stream (Next.js): what was written before the first read, then the rest, then its end", async () => {
    const body = new EventStreamBody();
    expect(body.write("a\n\n")).toBe(true);
    const text = readAll(body.stream);
    body.write("b\n\n");
    body.close();
    expect(await text).toBe("a\n\nb\n\n");
    expect(body.write("c")).toBe(false);
  });

  it("tells its owner once when the reader cancels, and refuses writes after", async () => {
    const body = new EventStreamBody();
    let cancels = 0;
    body.onCancel(() => {
      cancels += 1;
    });
    const reader = body.stream.getReader();
    body.write("a");
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("a");
    await reader.cancel();
    expect(cancels).toBe(1);
    expect(body.write("b")).toBe(false);
    body.close();
    expect(cancels).toBe(1);
  });

  it("is either read as a web stream or written to a socket, never both", async () => {
    const read = new EventStreamBody();
    read.stream.getReader();
    expect(read.stream).toBe(read.stream);
    expect(() => read.pipeTo({} as never)).toThrow(/web stream/);
  });

  it("taken over by the fast path: written to the socket, pending text first, ended when closed here", async () => {
    const body = new EventStreamBody();
    body.write("retry: 3000\n\n");
    const { response, over } = await served(body);
    let received = "";
    response.setEncoding("utf8");
    response.on("data", (chunk: string) => {
      received += chunk;
    });
    const ended = new Promise((resolve) => response.on("end", resolve));
    await new Promise((resolve) => setTimeout(resolve, 20));
    body.write("event: ttl\n\n");
    body.close();
    await ended;
    await over;
    expect(received).toBe("retry: 3000\n\nevent: ttl\n\n");
    expect(() => body.stream).toThrow(/socket/);
  });

  it("taken over by the fast path: a client that goes is the owner's cancel, once", async () => {
    const body = new EventStreamBody();
    let cancels = 0;
    body.onCancel(() => {
      cancels += 1;
    });
    const { response, over } = await served(body);
    response.destroy();
    await over;
    expect(cancels).toBe(1);
    expect(body.write("late")).toBe(false);
  });
});
