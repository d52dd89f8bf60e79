/** Who made a change: a dashboard user, an API key (by prefix), the environment's API_KEY, or a shell. */
export interface AuditActor {
  kind: "user" | "key" | "env" | "open" | "cli";
  /** An email, a key prefix, `API_KEY`, … never a secret. */
  label: string;
}

/** The caller of a mutating verb: who, and the request that carried it. */
export interface Caller {
  actor: AuditActor;
  requestId: string | null;
}

export const cliCaller = (what = "npm run admin"): Caller => ({ actor: { kind: "cli", label: what }, requestId: null });

/** The fields that differ between two views, before and after (absent on one side: null). */
export function changes(before: Record<string, unknown> | null, after: Record<string, unknown> | null) {
  const keys = new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})]);
  const was: Record<string, unknown> = {};
  const now: Record<string, unknown> = {};
  for (const key of keys) {
    const a = before?.[key] ?? null;
    const b = after?.[key] ?? null;
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    was[key] = a;
    now[key] = b;
  }
  return { before: before ? was : null, after: after ? now : null };
}
