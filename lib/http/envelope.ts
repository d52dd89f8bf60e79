import { outageOf } from "../dependency";
import { AppError, ERROR_STATUS } from "../errors";

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

export function errorResponse(error: unknown, requestId: string): Response {
  const known = error instanceof AppError ? error : undefined;
  const code = known?.code ?? "INTERNAL_ERROR";
  const body = {
    error: known?.message ?? "internal error; quote the request id when reporting it",
    code,
    ...(known?.details === undefined ? {} : { details: known.details }),
    request_id: requestId,
  };
  const headers: Record<string, string> = { ...(known?.headers ?? {}) };
  if (known?.retryAfterSeconds !== undefined) headers["Retry-After"] = String(known.retryAfterSeconds);
  return Response.json(body, { status: ERROR_STATUS[code], headers });
}

export function json(body: unknown, init: { status?: number; headers?: Record<string, string> } = {}): Response {
  return Response.json(body, { status: init.status ?? 200, headers: { "Cache-Control": "no-store", ...init.headers } });
}
