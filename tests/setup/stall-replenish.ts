/**
 * Preloaded (`node --import`) into a test's worker only, never part of the product's start: its
 * replenish loop's runs never end, as when a Docker call hangs (tests/supervise.test.ts).
 */
import { Replenisher } from "../../lib/upkeep/replenish";

Replenisher.prototype.tick = () => new Promise<void>(() => undefined);
