import { describe, expect, it } from "vitest";
import { clientKey, maskAddress, normalizeAddress } from "./address";

describe("normalizeAddress", () => {
  it("unmaps IPv4-mapped IPv6 and leaves everything else alone", () => {
    expect(normalizeAddress("::ffff:203.0.113.7")).toBe("203.0.113.7");
    expect(normalizeAddress("203.0.113.7")).toBe("203.0.113.7");
    expect(normalizeAddress("::ffff:1")).toBe("::ffff:1");
    expect(normalizeAddress("2001:db8::1")).toBe("2001:db8::1");
  });
});

describe("maskAddress", () => {
  it("shows IPv4 by /24 and IPv6 by /48", () => {
    expect(maskAddress("203.0.113.77")).toBe("203.0.113.0/24");
    expect(maskAddress("::ffff:203.0.113.77")).toBe("203.0.113.0/24");
    expect(maskAddress("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1::/48");
    expect(maskAddress("2001:db8::1")).toBe("2001:db8:0::/48");
    expect(maskAddress("garbage")).toBe("unknown");
  });
});

describe("clientKey", () => {
  it("keeps IPv4 as is, also when mapped into IPv6", () => {
    expect(clientKey("203.0.113.7", 56)).toBe("203.0.113.7");
    expect(clientKey("::ffff:203.0.113.7", 56)).toBe("203.0.113.7");
  });

  it("keys IPv6 by its prefix, so one subscriber cannot rotate addresses", () => {
    expect(clientKey("2001:db8:1:2:aaaa::1", 64)).toBe("2001:db8:1:2::/64");
    expect(clientKey("2001:db8:1:2:ffff:ffff:ffff:ffff", 64)).toBe("2001:db8:1:2::/64");
    expect(clientKey("2001:db8::1", 64)).toBe("2001:db8:0:0::/64");
    expect(clientKey("::1", 64)).toBe("0:0:0:0::/64");
  });

  it("cuts at any prefix length: /56 (the default) puts a subscriber's 256 /64s in one key", () => {
    expect(clientKey("2001:db8:1:2ff:aaaa::1", 56)).toBe("2001:db8:1:200::/56");
    expect(clientKey("2001:db8:1:200::9", 56)).toBe("2001:db8:1:200::/56");
    expect(clientKey("2001:db8:1:300::9", 56)).not.toBe(clientKey("2001:db8:1:200::9", 56));
    expect(clientKey("2001:db8:ffff:1::", 48)).toBe("2001:db8:ffff::/48");
    expect(clientKey("2001:db8::1", 128)).toBe("2001:db8:0:0:0:0:0:1/128");
    expect(clientKey("64:ff9b::192.0.2.1", 128)).toBe("64:ff9b:0:0:0:0:c000:201/128");
  });
});
