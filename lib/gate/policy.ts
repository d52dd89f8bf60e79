import type { Actor } from "../keys/authenticate";

/** An app's proof-of-work gate (ARCHITECTURE.md, "Drain protection"). */
export const BOT_GATES = ["auto", "pow", "none"] as const;
export type BotGate = (typeof BOT_GATES)[number];

/**
 * Who is calling, as the acquire script weighs it: `server` (a secret key, API_KEY, the local open
 * actor) is never challenged; `visitor` (the launch page, a publishable key) is under `auto` and
 * `pow`; `other` (any other caller without a secret) only under `pow`.
 */
export type CallerClass = "server" | "visitor" | "other";

export function callerClass(actor: Pick<Actor, "kind">): CallerClass {
  if (actor.kind === "secret" || actor.kind === "env" || actor.kind === "open") return "server";
  if (actor.kind === "launch" || actor.kind === "publishable") return "visitor";
  return "other";
}

/** The script's rule, for the challenge endpoint (which answers 204 when none is needed). */
export function challengeRequired(gate: BotGate, caller: CallerClass): boolean {
  if (caller === "server" || gate === "none") return false;
  return gate === "pow" || caller === "visitor";
}

/** What `bot_gate` holds in the Redis mirror; an app mirrored before the field existed is `auto`. */
export function gateOf(value: string | null | undefined): BotGate {
  return (BOT_GATES as readonly string[]).includes(value ?? "") ? (value as BotGate) : "auto";
}
