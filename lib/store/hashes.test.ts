import { describe, expect, it } from "vitest";
import { initialSpec } from "../app-spec";
import { loadConfig } from "../config";
import { CFG_FIELDS, cfgLua, decodeCfg, decodeInstance, encodeCfg, INSTANCE_FIELDS } from "./hashes";
import * as scripts from "./scripts";

const config = loadConfig({});

/** Every `redis.call('<HSET|HMGET|HGET|HINCRBY|HDEL>', <hash>, …)` of the scripts on the given hash variables. */
function fieldsUsed(hashes: string[]): { script: string; field: string }[] {
  const used: { script: string; field: string }[] = [];
  for (const [name, script] of Object.entries(scripts)) {
    if (!script || typeof script !== "object" || !("source" in script)) continue;
    const source = String(script.source);
    for (const call of source.matchAll(/redis\.call\('(HSET|HMGET|HGET|HINCRBY|HDEL)', (\w+), ([^)]*)\)/g)) {
      const [, command, hash, rest] = call;
      if (!hashes.includes(hash)) continue;
      const args = rest.split(",").map((arg) => arg.trim());
      // HSET takes field, value pairs; the others take fields (HINCRBY: one field, then a number).
      const fields = command === "HSET" ? args.filter((_, index) => index % 2 === 0) : command === "HINCRBY" ? [args[0]] : args;
      for (const field of fields) {
        const literal = field.match(/^'([a-z_]+)'$/);
        used.push({ script: name, field: literal ? literal[1] : `(not a literal: ${field})` });
      }
    }
  }
  return used;
}

describe("the settings hash (cfg)", () => {
  it("is the app field table's mirrored entries, encoded and decoded by one codec", () => {
    const spec = {
      ...initialSpec(config, "shop"),
      defaultTtlSeconds: 900,
      extendMinutes: 15,
      rateLimitHourly: null,
      acquireRate: 30,
      paused: true,
      ctaLabel: "Buy",
    };
    const stored = encodeCfg(spec);
    expect(stored).toMatchObject({
      default_ttl_ms: "900000",
      extend_ms: "900000",
      rl_hourly: "-1",
      acquire_rate: "30",
      paused: "1",
      launch_page: "0",
      cta_label: "Buy",
    });
    expect(Object.keys(stored).sort()).toEqual([...CFG_FIELDS.keys()].sort());
    // Written and never read once: no longer mirrored.
    expect(stored).not.toHaveProperty("pool_min");
    const names = ["default_ttl_ms", "extend_ms", "paused", "cta_label", "rl_hourly"] as const;
    expect(
      decodeCfg(
        names,
        names.map((name) => stored[name]),
      ),
    ).toEqual({
      default_ttl_ms: 900_000,
      extend_ms: 900_000,
      paused: true,
      cta_label: "Buy",
      rl_hourly: -1,
    });
  });

  it("gives a mirror without a field the same fallback in TypeScript and in Lua", () => {
    expect(decodeCfg(["extend_ms", "bot_gate", "default_ttl_ms"], [null, null, null])).toEqual({
      extend_ms: 600_000,
      bot_gate: "auto",
      default_ttl_ms: null, // no fallback: an absent one means the app is gone
    });
    const lua = cfgLua("cfg", "settings", ["extend_ms", "default_ttl_ms"]);
    expect(lua).toContain("redis.call('HMGET', cfg, 'extend_ms', 'default_ttl_ms')");
    expect(lua).toContain("settings.extend_ms = raw[1] or '600000'");
    expect(lua).toMatch(/settings\.default_ttl_ms = raw\[2\]\n/);
  });

  it("is read by the scripts only through cfgLua, by name", () => {
    // Any HMGET/HGET on cfg in a script is the generated one, so its names are declared ones.
    const used = fieldsUsed(["cfg"]);
    expect(used.length).toBeGreaterThan(10);
    for (const { script, field } of used) expect(CFG_FIELDS.has(field as never), `${script}: ${field}`).toBe(true);
  });
});

describe("the instance record", () => {
  it("has every field a script writes or reads declared", () => {
    const used = fieldsUsed(["inst", "instKey"]);
    expect(used.length).toBeGreaterThan(15);
    const undeclared = used.filter(({ field }) => !(field in INSTANCE_FIELDS));
    expect(undeclared).toEqual([]);
    // And every declared field is used by some script.
    const fields = new Set(used.map(({ field }) => field));
    expect(Object.keys(INSTANCE_FIELDS).filter((field) => !fields.has(field))).toEqual([]);
  });

  it("decodes by kind, an absent field as null", () => {
    expect(decodeInstance(["state", "expires_at", "visited", "worker"], ["assigned", "1700000000000", "1", null])).toEqual({
      state: "assigned",
      expires_at: 1_700_000_000_000,
      visited: true,
      worker: null,
    });
  });
});
