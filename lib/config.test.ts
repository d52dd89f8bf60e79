import { describe, expect, it } from "vitest";
import { loadConfig } from "./config";

describe("loadConfig", () => {
  it("has sensible defaults", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ PORT: 8080, PROXY_PORT: 8081, VALKEY_PREFIX: "tin:", POOL_DEFAULT_TTL: 1_800_000 });
  });

  it("parses durations and lists", () => {
    const config = loadConfig({ POOL_MAX_TTL: "90m", TRUSTED_PROXIES: "10.0.0.0/8, 127.0.0.1" });
    expect(config.POOL_MAX_TTL).toBe(5_400_000);
    expect(config.TRUSTED_PROXIES).toEqual(["10.0.0.0/8", "127.0.0.1"]);
  });

  it("takes PUBLIC_URL as an origin and refuses anything else", () => {
    expect(loadConfig({}).PUBLIC_URL).toBe("http://localhost:8080");
    expect(loadConfig({ PUBLIC_URL: "https://Demo.Example.com/" }).PUBLIC_URL).toBe("https://demo.example.com");
    expect(loadConfig({ PUBLIC_URL: "http://127.0.0.1:3000" }).PUBLIC_URL).toBe("http://127.0.0.1:3000");
    for (const bad of ["demo.example.com", "ftp://x.example", "https://x.example/app", "https://x.example/?a=1", "https://u:p@x.example"]) {
      expect(() => loadConfig({ PUBLIC_URL: bad }), bad).toThrow(/PUBLIC_URL/);
    }
  });

  it("names every bad variable", () => {
    expect(() => loadConfig({ PORT: "x", POOL_DEFAULT_TTL: "soon" })).toThrow(/PORT[\s\S]*POOL_DEFAULT_TTL/);
  });
});
