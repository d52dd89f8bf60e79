import type { z } from "zod";
import { AppError, invalidInput } from "../errors";
import type { RequestView } from "./request";

/** The JSON body, bounded by `maxBytes`, parsed with `schema`: 400, 413 or 415 in the envelope otherwise. */
export async function parseBody<S extends z.ZodType>(request: RequestView, schema: S, maxBytes: number): Promise<z.infer<S>> {
  const text = await readBounded(request, maxBytes);
  let value: unknown = {};
  if (text.trim()) {
    try {
      value = JSON.parse(text);
    } catch {
      // Lenient with clients that forget the header (curl -d) or cannot set it (a beacon sends
      // text/plain), strict about what the body is.
      const type = request.headers.get("content-type") ?? "";
      if (type && !/^(application\/(.+\+)?json|text\/plain)\b/i.test(type)) {
        throw new AppError("UNSUPPORTED_MEDIA_TYPE", "send the body as application/json");
      }
      throw new AppError("INVALID_REQUEST", "the body is not valid JSON");
    }
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new AppError("INVALID_REQUEST", "the body must be a JSON object");
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidInput(parsed.error.issues);
  return parsed.data;
}

async function readBounded(request: RequestView, maxBytes: number): Promise<string> {
  return (await readRawBody(request, maxBytes)).toString("utf8");
}

/** The body's bytes, at most `maxBytes` of them (413 past that, as soon as it is known). */
export async function readRawBody(request: RequestView, maxBytes: number): Promise<Buffer> {
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (declared > maxBytes) throw new AppError("PAYLOAD_TOO_LARGE", `the body may be at most ${maxBytes} bytes`);
  if (!request.body) {
    // No stream: an empty body, or the hot path's already-bounded buffer (see node-adapter.ts).
    const bytes = Buffer.from(await request.text(), "utf8");
    if (bytes.length > maxBytes) throw new AppError("PAYLOAD_TOO_LARGE", `the body may be at most ${maxBytes} bytes`);
    return bytes;
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new AppError("PAYLOAD_TOO_LARGE", `the body may be at most ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
