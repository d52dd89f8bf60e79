import { loadConfig } from "../config";
import { type Ctx, createContext } from "../context";

/**
 * The web process's one context. Route bundles may evaluate modules more than once, so it lives on
 * globalThis rather than in a module variable.
 */
const holder = globalThis as unknown as { __tinWebContext?: Ctx };

export function webContext(): Ctx {
  holder.__tinWebContext ??= createContext(loadConfig(), "web");
  return holder.__tinWebContext;
}
