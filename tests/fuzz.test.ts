import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TEST_API_KEY, TEST_PORT } from "./setup/stack";

const ID_LIKE = fc.oneof(
  fc.stringMatching(/^[a-z2-7]{20}$/),
  fc.constantFrom(
    "..%2F..%2Fetc%2Fpasswd",
    "%2e%2e",
    "%00",
    "a".repeat(2000),
    "%F0%9F%92%A9",
    "ünïcødé",
    "%",
    "%zz",
    "' OR 1=1 --",
    "__proto__",
  ),
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
);

const PATH = fc.oneof(
  fc.constant("/api/v1/demo/acquire"),
  ID_LIKE.map((id) => `/api/v1/demo/${id}`),
  ID_LIKE.map((id) => `/api/v1/demo/${id}/extend`),
  ID_LIKE.map((id) => `/api/v1/demo/${id}/status`),
  fc.constant("/api/v1/pool/stats"),
  fc.constant("/api/v1/apps"),
  ID_LIKE.map((slug) => `/api/v1/apps/${slug}`),
  fc.constant("/api/v1/keys"),
  ID_LIKE.map((id) => `/api/v1/keys/${id}`),
  ID_LIKE.map((x) => `/api/v1/${x}`),
  fc.constant("/health"),
  fc.constant("/metrics"),
);

const nested = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small" }, fc.jsonValue(), tie("array"), tie("object")),
  array: fc.array(tie("value"), { maxLength: 5 }),
  object: fc.dictionary(
    fc.oneof(fc.string(), fc.constantFrom("__proto__", "constructor", "prototype", "app", "minutes", "slug")),
    tie("value"),
    { maxKeys: 5 },
  ),
})).value;

const BODY = fc.oneof(
  nested.map((v) => JSON.stringify(v)),
  fc.record({ app: fc.oneof(fc.string(), fc.integer(), fc.constant(null)) }).map((v) => JSON.stringify(v)),
  fc.record({ minutes: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(null)) }).map((v) => JSON.stringify(v)),
  fc.constant('{"__proto__":{"polluted":true},"app":"x"}'),
  fc.constant("[".repeat(5000)),
  fc.constant(`{"a":"${"x".repeat(100_000)}"}`),
  fc.string({ maxLength: 200 }),
  fc.constant(""),
);

const REQUEST = fc.record({
  method: fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"),
  path: PATH,
  body: BODY,
  contentType: fc.constantFrom(
    "application/json",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "",
    "application/json; charset=utf-16",
  ),
  key: fc.constantFrom(TEST_API_KEY, "", "tin_sk_bogus", "tin_pk_bogus", TEST_API_KEY.slice(0, -1)),
  requestId: fc.oneof(
    fc.constant(undefined),
    fc.string({ maxLength: 300 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
  ),
  forwardedFor: fc.oneof(
    fc.constant(undefined),
    fc.ipV4(),
    fc.ipV6(),
    fc.string({ maxLength: 50 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
  ),
  origin: fc.oneof(
    fc.constant(undefined),
    fc.webUrl().map((u) => new URL(u).origin),
    fc.constant("null"),
  ),
});

describe("fuzz: generated requests to every endpoint", () => {
  it("never answers 5xx, always answers errors in the envelope, and keeps serving", async () => {
    const problems: string[] = [];
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(REQUEST, async (r) => {
        const headers: Record<string, string> = { "X-API-Key": r.key };
        if (r.contentType) headers["content-type"] = r.contentType;
        if (r.requestId !== undefined) headers["X-Request-ID"] = r.requestId;
        if (r.forwardedFor !== undefined) headers["X-Forwarded-For"] = r.forwardedFor;
        if (r.origin) headers.Origin = r.origin;
        const withBody = !["GET", "HEAD"].includes(r.method);
        const controller = new AbortController();
        const timer = setTimeout(() => controller.abort(), 10_000);
        let response: Response;
        try {
          response = await fetch(`http://127.0.0.1:${TEST_PORT}${r.path}`, {
            method: r.method,
            headers,
            body: withBody ? r.body : undefined,
            signal: controller.signal,
          });
        } finally {
          clearTimeout(timer);
        }
        sent += 1;
        const isStream = response.headers.get("content-type")?.includes("text/event-stream");
        const text = isStream ? "" : await response.text();
        if (isStream) await response.body?.cancel();
        const where = `${r.method} ${r.path.slice(0, 80)} → ${response.status}`;
        // 503 POOL_EXHAUSTED is the contract for an empty pool; any other 5xx is a defect.
        const exhausted = response.status === 503 && text.includes('"code":"POOL_EXHAUSTED"');
        if (response.status >= 500 && !exhausted) problems.push(`${where}: ${text.slice(0, 200)}`);
        if (response.status >= 400 && r.method !== "HEAD" && r.path.startsWith("/api/")) {
          let body: { code?: unknown; request_id?: unknown; error?: unknown } = {};
          try {
            body = JSON.parse(text);
          } catch {
            problems.push(`${where}: not JSON: ${text.slice(0, 120)}`);
            return;
          }
          if (typeof body.code !== "string" || typeof body.error !== "string" || !("request_id" in body)) {
            problems.push(`${where}: not the envelope: ${text.slice(0, 120)}`);
          }
        }
      }),
      { numRuns: 2500, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 100000) },
    );
    expect(sent).toBe(2500);
    expect(problems.slice(0, 20)).toEqual([]);
    // Nothing leaked into the prototype, and the server still answers.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const health = await fetch(`http://127.0.0.1:${TEST_PORT}/health`);
    expect(health.status).toBe(200);
  });
});
