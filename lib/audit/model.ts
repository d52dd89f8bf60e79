/** Who made a change: a dashboard user, an API key (by prefix), the environment's API_KEY, or a shell. */
export interface AuditActor {
  kind: "user" | "key" | "env" | "open" | "cli";
  /** An email, a key prefix, `API_KEY`, … never a secret. */
  label: string;
}

/**
 * The caller of a verb: who (as the audit log names them), the request that carried it, and what
 * they may touch — the apps (null: every app) and scopes of their key. Every verb that loads an
 * app, an instance, a key or a dead letter loads it through a loader that applies `apps`
 * (ARCHITECTURE.md, "Authorization").
 */
export interface Caller {
  actor: AuditActor;
  requestId: string | null;
  apps: readonly string[] | null;
  scopes: ReadonlySet<string> | "all";
}

/** The scope of the product's own reads (the overview, the metrics' gauges): every app. */
export const EVERY_APP: Pick<Caller, "apps"> = { apps: null };

/** A caller that may touch everything: a dashboard user, the CLI, the product's own pages. */
export const unrestrictedCaller = (actor: AuditActor, requestId: string | null = null): Caller => ({
  actor,
  requestId,
  apps: null,
  scopes: "all",
});

export const cliCaller = (what = "npm run admin"): Caller => unrestrictedCaller({ kind: "cli", label: what });

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
