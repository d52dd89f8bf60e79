import type { Logger } from "./log";

/** The services the processes depend on (ARCHITECTURE.md, "Restarts"). */
export type Dependency = "redis" | "mariadb" | "nats" | "docker" | "caddy";

/** A call to a dependency failed because it is not there (refused, closed, timed out): an outage, not a bug. */
export class DependencyError extends Error {
  constructor(
    readonly dependency: Dependency,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "DependencyError";
  }
}

const REDIS_OUTAGE =
  /^(Connection is closed\.?|Command timed out|Reached the max retries per request limit.*|Stream isn't writeable.*)$/;
const SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOENT", "EHOSTUNREACH", "ENOTCONN"]);

/**
 * Which dependency an unexpected error came from, when it is an outage: our own adapters throw a
 * DependencyError; ioredis and mysql2 (also wrapped by drizzle) are known by their errors' shapes.
 * Anything else is null — a bug, which stays a 500.
 */
export function outageOf(error: unknown): Dependency | null {
  for (let current = error, depth = 0; current && depth < 5; current = (current as { cause?: unknown }).cause, depth += 1) {
    if (current instanceof DependencyError) return current.dependency;
    const candidate = current as { name?: string; message?: string; fatal?: boolean; code?: string; address?: string };
    if (candidate.name === "MaxRetriesPerRequestError" || REDIS_OUTAGE.test(candidate.message ?? "")) return "redis";
    // mysql2 marks errors that broke the connection as fatal; a refused pool connection has the socket's code.
    if (candidate.fatal === true || candidate.code?.startsWith("PROTOCOL_") || candidate.code === "ER_SERVER_SHUTDOWN")
      return "mariadb";
    if (candidate.code && SOCKET_CODES.has(candidate.code) && candidate.address?.includes("docker.sock")) return "docker";
  }
  return null;
}

/**
 * Logs a dependency's state changes, not every failed attempt: one line when it goes away (with the
 * first error), one when it is back (with how long it was away and how many attempts failed).
 */
export class StateLog {
  private downSince: number | null = null;
  private failures = 0;

  constructor(
    private readonly log: Logger,
    private readonly what: string,
  ) {}

  failed(error: unknown): void {
    this.failures += 1;
    if (this.downSince !== null) return;
    this.downSince = performance.now();
    this.log.warn({ what: this.what, err: error instanceof Error ? error.message : String(error) }, `${this.what}: failing`);
  }

  ok(): void {
    if (this.downSince === null) return;
    this.log.info(
      { what: this.what, downMs: Math.round(performance.now() - this.downSince), failedAttempts: this.failures },
      `${this.what}: back`,
    );
    this.downSince = null;
    this.failures = 0;
  }
}
