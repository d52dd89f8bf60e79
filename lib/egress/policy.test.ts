import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { describeEgress } from "./describe";
import { networkName, type PolicyInput, parseAllowEntry, rulesetText, tableName, verdictsOf } from "./policy";

const input: PolicyInput = {
  table: "tryitnow_unit_check",
  networks: [
    { name: "tin-net", bridge: "br-aaaaaaaaaaaa", subnet: "172.30.0.0/16", gateway: "172.30.0.1", mode: "public", api: true },
    {
      name: "tin-net-allow",
      bridge: "br-bbbbbbbbbbbb",
      subnet: "172.31.0.0/16",
      gateway: "172.31.0.1",
      mode: "allow",
      api: false,
    },
  ],
  apps: [{ slug: "shop-a", mode: "allow", api: false, db: false, allow: [{ cidr: "203.0.113.0/24", port: 443 }] }],
  dnsServers: ["10.255.255.53"],
  apiPort: 8081,
  demoDb: { address: "172.17.0.1", port: 3307 },
};

describe("egress policy", () => {
  it("reads allow entries as CIDR:port and refuses anything else", () => {
    expect(parseAllowEntry("203.0.113.0/24:443")).toEqual({ cidr: "203.0.113.0/24", port: 443 });
    expect(parseAllowEntry(" 203.0.113.7:80 ")).toEqual({ cidr: "203.0.113.7/32", port: 80 });
    for (const bad of [
      "203.0.113.0/24",
      "203.0.113.0/33:80",
      "256.1.1.1:80",
      "1.2.3.4:0",
      "1.2.3.4:70000",
      "example.com:80",
      "::1:80",
    ]) {
      expect(parseAllowEntry(bad), bad).toBeNull();
    }
  });

  it("names one network per mode and entitlement, the base one being public with the API", () => {
    expect(networkName("tin-net", "public", true)).toBe("tin-net");
    expect(networkName("tin-net", "none", false)).toBe("tin-net-none");
    expect(networkName("tin-net", "allow", true)).toBe("tin-net-allow-api");
    expect(tableName("tin-test-net")).toBe("tryitnow_tin_test_net");
    expect(verdictsOf({ slug: "shop-a", mode: "allow", api: true, db: false, allow: [] })).toEqual({
      out: "out_allow_shop_a",
      host: "host_closed_api",
    });
    expect(verdictsOf({ slug: "wp", mode: "public", api: false, db: true, allow: [] }).host).toBe("host_dns_db");
  });

  it("lets only the chains of apps with a database reach the demo database server", () => {
    const { text } = rulesetText(input, new Map());
    const chains = text
      .split("\n  chain ")
      .map((part) => ({ name: part.split(" ")[0], body: part }))
      .filter(({ name }) => name.startsWith("host_"));
    expect(chains).toHaveLength(8);
    for (const { name, body } of chains)
      expect(body.includes("ip daddr 172.17.0.1 tcp dport 3307 accept"), name).toBe(name.endsWith("_db"));
    expect(rulesetText({ ...input, demoDb: null }, new Map()).text).not.toContain("3307");
  });

  it("is a ruleset nft accepts, with a fingerprint of its static part only", () => {
    const empty = rulesetText(input, new Map());
    const withInstance = rulesetText(input, new Map([["172.31.0.5", { out: "out_allow_shop_a", host: "host_closed" }]]));
    expect(withInstance.fingerprint).toBe(empty.fingerprint);
    expect(rulesetText({ ...input, apiPort: 9000 }, new Map()).fingerprint).not.toBe(empty.fingerprint);
    expect(withInstance.text).toContain("172.31.0.5 : jump out_allow_shop_a");
    const checked = spawnSync("nft", ["-c", "-f", "-"], { input: withInstance.text, encoding: "utf8" });
    expect(checked.stderr).toBe("");
    expect(checked.status).toBe(0);
  });

  it("says in words what an instance may reach", () => {
    expect(describeEgress({ egress: "none", egress_allow: [], api_access: false }).join(" ")).toMatch(
      /nothing outside themselves.*cannot reach this product's API/,
    );
    expect(describeEgress({ egress: "allow", egress_allow: ["203.0.113.0/24:443"], api_access: true }).join(" ")).toContain(
      "only 203.0.113.0/24 port 443",
    );
  });
});
