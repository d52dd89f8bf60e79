import { describe, expect, it } from "vitest";
import { pageOf, referrerOrigin } from "./beacon";
import { funnelCsv } from "./csv";

describe("what a beacon may keep of a page", () => {
  it("keeps the path and utm_* parameters only", () => {
    expect(pageOf("https://shop.example/a/b?utm_source=x&token=secret&utm_medium=y#f")).toBe("/a/b?utm_source=x&utm_medium=y");
    expect(pageOf("https://shop.example/?email=a%40b.c")).toBe("/");
    expect(pageOf("javascript:alert(1)")).toBeNull();
    expect(pageOf("not a url")).toBeNull();
    expect(pageOf(undefined)).toBeNull();
  });

  it("keeps a referrer's origin only", () => {
    expect(referrerOrigin("https://news.example/story?id=7")).toBe("https://news.example");
    expect(referrerOrigin("data:text/html,hi")).toBeNull();
  });
});

describe("funnel CSV", () => {
  it("gives each step's conversion from the one before and its drop-off", () => {
    const csv = funnelCsv({
      app: "a",
      from: "",
      to: "",
      steps: [
        { name: "impression", count: 10 },
        { name: "click", count: 4 },
        { name: "acquired", count: 0 },
        { name: "visited", count: 0 },
        { name: "extended", count: 0 },
        { name: "converted", count: 0 },
      ],
      rejected: { exhausted: 3, paused: 1 },
      sessions: { count: 0, median_seconds: null, p90_seconds: null },
      first_visit: { median_seconds: null, p90_seconds: null },
    });
    const lines = csv.trim().split("\r\n");
    expect(lines[0]).toBe("step,count,conversion_from_previous,drop_off");
    expect(lines[1]).toBe("impression,10,,");
    expect(lines[2]).toBe("click,4,0.4000,6");
    expect(lines[3]).toBe("acquired,0,0.0000,4");
    expect(lines[4]).toBe("visited,0,,0");
    expect(lines).toContain("rejected:exhausted,3,,");
    expect(lines).toContain("rejected:paused,1,,");
  });
});
