import { describe, expect, it } from "vitest";
import { AppError } from "../errors";
import { errorReply, json } from "./envelope";
import { EventStreamBody } from "./event-stream";
import { reply } from "./reply";

describe("a route's reply", () => {
  it("keeps header names in lower case, so the same header set twice in different case is sent once", () => {
    const answer = json({ a: 1 }, { headers: { "Cache-Control": "private" } });
    answer.setHeader("X-Request-ID", "r1");
    answer.appendHeader("Vary", "Origin");
    answer.appendHeader("vary", "Accept");
    expect(answer.headers).toEqual({
      "content-type": "application/json",
      "cache-control": "private",
      "x-request-id": "r1",
      vary: "Origin, Accept",
    });
    expect(answer.body).toBe('{"a":1}');
  });

  it("becomes the same Response for Next.js: status, headers and body", async () => {
    const response = json({ id: "x" }, { status: 201 }).toResponse();
    expect(response.status).toBe(201);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(await response.json()).toEqual({ id: "x" });
    const empty = reply(null, { status: 204 }).toResponse();
    expect(empty.status).toBe(204);
    expect(await empty.text()).toBe("");
  });

  it("gives an event stream to Next.js as its web stream", async () => {
    const body = new EventStreamBody();
    body.write("event: ttl\n\n");
    body.close();
    const response = reply(body, { headers: { "Content-Type": "text/event-stream" } }).toResponse();
    expect(await response.text()).toBe("event: ttl\n\n");
  });

  it("carries the error envelope with the code's status and Retry-After", () => {
    const answer = errorReply(new AppError("UNAVAILABLE", "redis is down", { retryAfterSeconds: 5 }), "req-1");
    expect(answer.status).toBe(503);
    expect(answer.headers["retry-after"]).toBe("5");
    expect(JSON.parse(answer.body as string)).toEqual({ error: "redis is down", code: "UNAVAILABLE", request_id: "req-1" });
    const bug = errorReply(new Error("secret detail"), "req-2");
    expect(bug.status).toBe(500);
    expect(bug.body).not.toContain("secret detail");
  });
});
