/** The dashboard's calls to its own route handlers (same origin, session cookie). */
export interface ApiFailure {
  status: number;
  message: string;
  fieldErrors: Record<string, string>;
}

export async function adminFetch<T>(
  path: string,
  init: { method: string; body?: unknown; raw?: Blob },
): Promise<{ ok: true; data: T } | { ok: false; error: ApiFailure }> {
  let response: Response;
  try {
    response = await fetch(path, {
      method: init.method,
      headers: init.raw
        ? { "content-type": init.raw.type || "application/octet-stream" }
        : init.body === undefined
          ? undefined
          : { "content-type": "application/json" },
      body: init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body)),
    });
  } catch {
    return {
      ok: false,
      error: { status: 0, message: "the server could not be reached; check your connection and try again", fieldErrors: {} },
    };
  }
  const body = (await response.json().catch(() => null)) as { error?: string; details?: unknown } | T | null;
  if (response.ok) return { ok: true, data: body as T };
  const failure = (body ?? {}) as { error?: string; details?: unknown; request_id?: string };
  const fieldErrors: Record<string, string> = {};
  if (Array.isArray(failure.details)) {
    for (const detail of failure.details as { path?: unknown; message?: unknown }[]) {
      if (typeof detail?.path === "string" && typeof detail.message === "string" && detail.path) {
        fieldErrors[detail.path.split(".")[0]] ??= detail.message;
      }
    }
  }
  const message =
    response.status === 401
      ? "your session has ended; sign in again"
      : response.status >= 500
        ? `something went wrong on the server${failure.request_id ? ` (request ${failure.request_id})` : ""}`
        : (failure.error ?? `request failed (${response.status})`);
  return { ok: false, error: { status: response.status, message, fieldErrors } };
}
