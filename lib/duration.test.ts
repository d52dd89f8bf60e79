import { describe, expect, it } from "vitest";
import { parseDurationMs } from "./duration";

describe("parseDurationMs", () => {
  it.each([
    ["90s", 90_000],
    ["10m", 600_000],
    ["1h", 3_600_000],
    ["250ms", 250],
    ["45", 45_000],
    ["1.5h", 5_400_000],
  ])("%s → %d ms", (input, expected) => expect(parseDurationMs(input)).toBe(expected));

  it.each(["", "abc", "10 minutes", "-5s", "1y"])("rejects %j", (input) =>
    expect(() => parseDurationMs(input)).toThrow(/invalid duration/),
  );
});
