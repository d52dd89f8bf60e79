/**
 * Entries of an app's cleanup queue (`tin:{app}:trash`): the instance and the request that caused
 * its removal, so the worker's cleanup log line carries the request id.
 */
export function trashEntry(id: string, requestId: string | null): string {
  return JSON.stringify({ id, request_id: requestId });
}

export function readTrashEntry(entry: string): { id: string; requestId: string | null } {
  try {
    const parsed = JSON.parse(entry) as { id?: unknown; request_id?: unknown };
    if (typeof parsed.id === "string") return { id: parsed.id, requestId: typeof parsed.request_id === "string" ? parsed.request_id : null };
  } catch {
    // a bare id
  }
  return { id: entry, requestId: null };
}
