import { describe, expect, it } from "vitest";
import { redisKeys } from "./keys";
import { defineScript, ScriptReplyError } from "./script";
import { acquireScript, extendScript, removeScript, reserveScript } from "./scripts";

describe("typed scripts", () => {
  it("bind KEYS and ARGV to locals named as declared, in order", () => {
    expect(reserveScript.source.startsWith("local ready = KEYS[1]\nlocal warming = KEYS[2]\n")).toBe(true);
    expect(reserveScript.source).toContain("local target = ARGV[1]\nlocal max = ARGV[2]\n");
    expect(reserveScript.sha).toMatch(/^[0-9a-f]{40}$/);
  });

  it("refuse names that cannot be Lua locals, and duplicates", () => {
    const make = (keys: string[], args: string[]) => () =>
      defineScript({ name: "t", keys, args, lua: "return 1", decode: () => 1 });
    expect(make(["end"], [])).toThrow(/cannot be a Lua local/);
    expect(make(["a-b"], [])).toThrow(/cannot be a Lua local/);
    expect(make(["x"], ["x"])).toThrow(/must differ/);
  });

  it("decode each reply into its union, and fail loudly on anything else", () => {
    expect(reserveScript.decode("reserved")).toEqual({ status: "reserved" });
    expect(reserveScript.decode("at_max")).toEqual({ status: "refused", reason: "at_max" });
    expect(() => reserveScript.decode(1)).toThrow(ScriptReplyError);

    expect(acquireScript.decode(["NO_APP"])).toEqual({ status: "NO_APP" });
    expect(acquireScript.decode(["RATE_LIMITED", "daily", 10, 3, 5, 5])).toEqual({
      status: "RATE_LIMITED",
      window: "daily",
      hourly: { limit: 10, used: 3 },
      daily: { limit: 5, used: 5 },
    });
    expect(
      acquireScript.decode([
        "OK",
        "abc",
        0,
        1,
        0,
        1,
        "1000",
        "61000",
        "60000",
        "/admin",
        "90000",
        "600000",
        "6",
        "Sign up",
        "https://x.example",
        "",
        "",
        "",
      ]),
    ).toEqual({
      status: "OK",
      id: "abc",
      hourly: { limit: 0, used: 1 },
      daily: { limit: 0, used: 1 },
      createdAtMs: 1000,
      expiresAtMs: 61000,
      ttlMs: 60000,
      adminPath: "/admin",
      maxExpiresAtMs: 90000,
      extendMs: 600000,
      maxExtensions: 6,
      ctaLabel: "Sign up",
      ctaUrl: "https://x.example",
      signIn: null,
    });
    const signedIn = [
      "OK",
      "abc",
      0,
      1,
      0,
      1,
      "1000",
      "61000",
      "60000",
      "/",
      "90000",
      "600000",
      "6",
      "",
      "",
      "admin",
      "pw",
      "/wp-login.php",
    ];
    expect(acquireScript.decode(signedIn)).toMatchObject({
      signIn: { username: "admin", password: "pw", path: "/wp-login.php" },
    });
    expect(acquireScript.decode(["NOT_PUBLIC"])).toEqual({ status: "NOT_PUBLIC" });
    expect(() => acquireScript.decode(["OK", "abc", 0, 1, 0, 1, "x"])).toThrow(/created_at is not a number/);
    expect(() => acquireScript.decode("OK")).toThrow(ScriptReplyError);

    expect(extendScript.decode(["LIMIT", "max_extensions", "7200000", "5000", "6", "6", "9000"])).toEqual({
      status: "LIMIT",
      limit: "max_extensions",
      maxTtlMs: 7_200_000,
      expiresAtMs: 5000,
      extensions: 6,
      maxExtensions: 6,
      maxExpiresAtMs: 9000,
    });
    expect(() => extendScript.decode(["LIMIT", "forever"])).toThrow(ScriptReplyError);
    expect(removeScript.decode(null)).toBeNull();
    expect(removeScript.decode("assigned")).toBe("assigned");
    expect(() => removeScript.decode("gone")).toThrow(ScriptReplyError);
  });
});

describe("redisKeys", () => {
  it("builds an app's keys once, with the app's hash tag on every one", () => {
    const keys = redisKeys("tin:");
    const shop = keys.app("shop");
    expect(keys.app("shop")).toBe(shop);
    const all = [shop.ready, shop.warming, shop.expiry, shop.cfg, shop.health, shop.inst("x"), shop.rateLimit("1.2.3.4", "h1")];
    expect(all.filter((key) => !key.startsWith("tin:{shop}:"))).toEqual([]);
  });

  it("stays bounded under a flood of made-up apps", () => {
    const keys = redisKeys("tin:");
    for (let index = 0; index < 5000; index += 1) keys.app(`made-up-${index}`);
    expect(keys.app("made-up-4999").ready).toBe("tin:{made-up-4999}:ready");
    expect(keys.app("made-up-4999")).not.toBe(keys.app("made-up-4999")); // past the cap: built per call
    expect(keys.app("made-up-0")).toBe(keys.app("made-up-0"));
  });
});
