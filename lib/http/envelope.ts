import { outageOf } from "../dependency";
import { AppError, ERROR_STATUS } from "../errors";
import { Reply } from "./reply";

/**
 * An unexpected error that is a dependency's outage becomes 503 `UNAVAILABLE` naming it, with
 * `Retry-After` (ARCHITECTURE.md, "Restarts"); a bug stays a 500.
 */
export function asOutage(error: unknown): unknown {
  if (error instanceof AppError) return error;
  const dependency = outageOf(error);
  if (!dependency) return error;
  return new AppError("UNAVAILABLE", `${dependency} is not reachable right now; retry shortly`, {
    retryAfterSeconds: 5,
    details: { dependency },
  });
}

/** The error envelope `{error, code, details?, request_id}` with the code's status. */
export function errorReply(error: unknown, requestId: string): Reply {
  const known = error instanceof AppError ? error : undefined;
  const code = known?.code ?? "INTERNAL_ERROR";
  const body = {
    error: known?.message ?? "internal error; quote the request id when reporting it",
    code,
    ...(known?.details === undefined ? {} : { details: known.details }),
    request_id: requestId,
  };
  const headers: Record<string, string> = { ...(known?.headers ?? {}), "content-type": "application/json" };
  if (known?.retryAfterSeconds !== undefined) headers["retry-after"] = String(known.retryAfterSeconds);
  return new Reply(ERROR_STATUS[code], headers, JSON.stringify(body));
}

/** JSON, never cached: what route handlers answer with. */
export function json(body: unknown, init: { status?: number; headers?: Record<string, string> } = {}): Reply {
  return new Reply(
    init.status ?? 200,
    { "content-type": "application/json", "cache-control": "no-store", ...init.headers },
    JSON.stringify(body),
  );
}
