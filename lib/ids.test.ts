import { describe, expect, it } from "vitest";
import { INSTANCE_ID, newInstanceId, newRecordId } from "./ids";

describe("ids", () => {
  it("instance ids are 20 lowercase base32 characters, DNS-safe and distinct", () => {
    const ids = new Set(Array.from({ length: 5000 }, newInstanceId));
    expect(ids.size).toBe(5000);
    for (const id of ids) {
      expect(id).toMatch(INSTANCE_ID);
      expect(id).toMatch(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/);
    }
  });

  it("uses the whole alphabet (100 bits, not fewer)", () => {
    const seen = new Set(Array.from({ length: 2000 }, newInstanceId).join(""));
    expect(seen.size).toBe(32);
  });

  it("record ids carry their prefix", () => {
    expect(newRecordId("app")).toMatch(/^app_[A-Za-z0-9_-]{16}$/);
  });
});
