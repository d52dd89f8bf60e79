import { describe, expect, it } from "vitest";
import { rateLimitHeaders } from "./acquire";

describe("rateLimitHeaders", () => {
  it("states both policies and what remains (IETF draft syntax)", () => {
    const headers = rateLimitHeaders({
      hourly: { limit: 10, used: 3, resetMs: 1_500_000 },
      daily: { limit: 50, used: 3, resetMs: 40_000_000 },
    });
    expect(headers["RateLimit-Policy"]).toBe('"hourly";q=10;w=3600, "daily";q=50;w=86400');
    expect(headers.RateLimit).toBe('"hourly";r=7;t=1500, "daily";r=47;t=40000');
  });

  it("omits unlimited windows, and sends nothing when there are none", () => {
    expect(rateLimitHeaders({ hourly: { limit: 0, used: 9, resetMs: 1 }, daily: { limit: 5, used: 9, resetMs: 1000 } })).toEqual({
      "RateLimit-Policy": '"daily";q=5;w=86400',
      RateLimit: '"daily";r=0;t=1',
    });
    expect(rateLimitHeaders({ hourly: { limit: 0, used: 0, resetMs: 1 }, daily: { limit: 0, used: 0, resetMs: 1 } })).toEqual({});
  });
});
