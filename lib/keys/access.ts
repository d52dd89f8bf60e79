import type { Caller } from "../audit/model";
import type { ApiKeyRow } from "../db/schema";
import { AppError, invalidInput } from "../errors";
import type { KeyCreateInput } from "./model";

/**
 * Whether a key lies within the caller's reach: every key for an unrestricted caller; for a key
 * restricted to some apps, only keys restricted to some of those same apps (an unrestricted key
 * is never within a restricted one's reach).
 */
export function keyWithin(caller: Pick<Caller, "apps">, row: Pick<ApiKeyRow, "apps">): boolean {
  if (caller.apps === null) return true;
  const apps = row.apps ?? null;
  return apps !== null && apps.length > 0 && apps.every((app) => caller.apps?.includes(app));
}

/**
 * What a caller may mint (ARCHITECTURE.md, "Authorization"): scopes it holds itself, apps within
 * its own, and an unrestricted key only when it is unrestricted. A key restricted to some apps
 * never holds `metrics` (the metrics cover every app), whoever makes it.
 */
export function checkMintable(caller: Pick<Caller, "apps" | "scopes">, input: KeyCreateInput): void {
  const scopes = input.kind === "publishable" ? [] : (input.scopes ?? ["demo"]);
  const apps = input.apps ?? null;
  if (apps !== null && scopes.includes("metrics")) {
    throw invalidInput([
      { path: ["scopes"], message: "a key restricted to some apps cannot hold metrics (they cover every app)" },
    ]);
  }
  if (caller.scopes !== "all") {
    const missing = scopes.filter((scope) => !(caller.scopes as ReadonlySet<string>).has(scope));
    if (missing.length)
      throw new AppError("FORBIDDEN", `a key may only grant scopes it holds itself (not: ${missing.join(", ")})`);
  }
  if (caller.apps !== null) {
    if (apps === null) throw new AppError("FORBIDDEN", "only a key for every app may create a key for every app: name the apps");
    const outside = apps.filter((app) => !caller.apps?.includes(app));
    if (outside.length) throw new AppError("FORBIDDEN", `a key may only grant apps it holds itself (not: ${outside.join(", ")})`);
  }
}
