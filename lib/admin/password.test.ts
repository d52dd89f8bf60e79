import { describe, expect, it } from "vitest";
import { hashPassword, randomPassword, verifyPassword } from "./password";

describe("admin passwords", () => {
  it("hash with scrypt and a salt, verify the right password only", async () => {
    const hash = await hashPassword("correct horse battery");
    expect(hash).toMatch(/^scrypt\$32768\$8\$1\$[\w-]+\$[\w-]+$/);
    expect(await hashPassword("correct horse battery")).not.toBe(hash);
    expect(await verifyPassword("correct horse battery", hash)).toBe(true);
    expect(await verifyPassword("correct horse batterz", hash)).toBe(false);
    expect(await verifyPassword("anything", "plain-text")).toBe(false);
  });

  it("makes long random first-run passwords", () => {
    const password = randomPassword();
    expect(password).toHaveLength(20);
    expect(randomPassword()).not.toBe(password);
  });
});
