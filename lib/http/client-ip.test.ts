import { describe, expect, it } from "vitest";
import { clientIp, trustedProxies } from "./client-ip";

describe("clientIp", () => {
  const none = trustedProxies([]);
  const proxies = trustedProxies(["10.0.0.0/8", "127.0.0.1"]);

  it("uses the socket address and ignores X-Forwarded-For from an untrusted peer", () => {
    expect(clientIp("198.51.100.4", "1.2.3.4", none)).toBe("198.51.100.4");
    expect(clientIp("::ffff:198.51.100.4", "1.2.3.4", proxies)).toBe("198.51.100.4");
  });

  it("behind trusted proxies takes the right-most untrusted hop", () => {
    expect(clientIp("127.0.0.1", "203.0.113.9", proxies)).toBe("203.0.113.9");
    // A client that prepends a forged entry gains nothing: the proxy appended the real one.
    expect(clientIp("127.0.0.1", "1.1.1.1, 203.0.113.9, 10.1.2.3", proxies)).toBe("203.0.113.9");
  });

  it("stops at garbage in the header", () => {
    expect(clientIp("127.0.0.1", "not-an-ip", proxies)).toBe("127.0.0.1");
  });

  it("rejects a malformed TRUSTED_PROXIES entry", () => {
    expect(() => trustedProxies(["nonsense"])).toThrow(/TRUSTED_PROXIES/);
  });
});
