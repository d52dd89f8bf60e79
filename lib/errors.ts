/** The closed set of error codes the API speaks, each with its HTTP status. */
export const ERROR_STATUS = {
  INVALID_REQUEST: 400,
  MAX_TTL_EXCEEDED: 400,
  NOT_VISITED: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  CHALLENGE_REQUIRED: 403,
  CHALLENGE_FAILED: 403,
  BLOCKED: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL_ERROR: 500,
  POOL_EXHAUSTED: 503,
  APP_PAUSED: 503,
  UNAVAILABLE: 503,
} as const;
export type ErrorCode = keyof typeof ERROR_STATUS;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;
  /** Seconds a client should wait before trying again (429, 503). */
  readonly retryAfterSeconds?: number;
  /** Extra response headers (e.g. the RateLimit headers of a refused acquire). */
  readonly headers?: Record<string, string>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: unknown; retryAfterSeconds?: number; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = "AppError";
    this.code = code;
    this.details = options.details;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.headers = options.headers;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export const notFound = (what = "instance") => new AppError("NOT_FOUND", `${what} not found`);

/** A 400 naming every field zod refused: `details` lists `{path, message}`, the message joins them. */
export function invalidInput(issues: readonly { path: readonly PropertyKey[]; message: string }[]): AppError {
  const details = issues.map((issue) => ({ path: issue.path.map(String).join("."), message: issue.message }));
  return new AppError("INVALID_REQUEST", details.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message)).join("; "), {
    details,
  });
}
