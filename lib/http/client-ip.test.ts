import { describe, expect, it } from "vitest";
import { clientIp, EDGE_HEADER, PEER_HEADER, requestClient, trustedProxies } from "./client-ip";

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

  it("through the bundled proxy's listener takes Caddy's X-Forwarded-For without TRUSTED_PROXIES", () => {
    expect(clientIp("proxy", "203.0.113.9", none, true)).toBe("203.0.113.9");
    expect(clientIp("proxy", "1.1.1.1, 203.0.113.9", none, true)).toBe("203.0.113.9");
    expect(clientIp("proxy", null, none, true)).toBe("0.0.0.0");
  });
});

describe("requestClient", () => {
  const headers = (values: Record<string, string>) => ({ get: (name: string) => values[name] ?? null });

  it("is local only for a loopback socket on the direct listener", () => {
    expect(requestClient(headers({ [PEER_HEADER]: "127.0.0.1", [EDGE_HEADER]: "direct" }), [])).toEqual({
      ip: "127.0.0.1",
      local: true,
    });
    expect(requestClient(headers({ [PEER_HEADER]: "::1", [EDGE_HEADER]: "direct" }), [])).toEqual({ ip: "::1", local: true });
    expect(requestClient(headers({ [PEER_HEADER]: "198.51.100.4", [EDGE_HEADER]: "direct" }), []).local).toBe(false);
  });

  it("never takes a proxied request for a local one, even when it claims loopback", () => {
    expect(
      requestClient(headers({ [PEER_HEADER]: "proxy", [EDGE_HEADER]: "proxy", "x-forwarded-for": "127.0.0.1" }), []),
    ).toEqual({ ip: "127.0.0.1", local: false });
  });

  it("fails closed without the server's headers: not local", () => {
    expect(requestClient(headers({ "x-forwarded-for": "127.0.0.1" }), []).local).toBe(false);
  });

  it("ignores a forged X-Forwarded-For on the direct listener", () => {
    expect(
      requestClient(headers({ [PEER_HEADER]: "127.0.0.1", [EDGE_HEADER]: "direct", "x-forwarded-for": "203.0.113.5" }), []),
    ).toEqual({ ip: "127.0.0.1", local: true });
  });

  it("behind the operator's own trusted front proxy, the visitor is not local", () => {
    expect(
      requestClient(headers({ [PEER_HEADER]: "127.0.0.1", [EDGE_HEADER]: "direct", "x-forwarded-for": "203.0.113.5" }), [
        "127.0.0.1",
      ]),
    ).toEqual({ ip: "203.0.113.5", local: false });
  });
});
