import { BlockList, isIP } from "node:net";
import { normalizeAddress as normalize } from "../net/address";

/** Header the custom server sets from the socket (overwriting anything a client sent). */
export const PEER_HEADER = "x-tin-peer-ip";
/**
 * Header the custom server sets to the listener a request came in on (overwriting anything a
 * client sent): `proxy` for the bundled proxy's Unix socket, `direct` for the TCP port.
 */
export const EDGE_HEADER = "x-tin-edge";

/** What a client address is when none can be told (a proxied request without X-Forwarded-For). */
const UNKNOWN_ADDRESS = "0.0.0.0";

export function trustedProxies(entries: string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address, bits] = entry.split("/");
    const family = isIP(address) === 6 ? "ipv6" : "ipv4";
    if (!isIP(address)) throw new Error(`TRUSTED_PROXIES: "${entry}" is not an IP or CIDR`);
    if (bits === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(bits), family);
  }
  return list;
}

function isTrusted(list: BlockList, ip: string): boolean {
  const family = isIP(ip) === 6 ? "ipv6" : "ipv4";
  return isIP(ip) !== 0 && list.check(ip, family);
}

const LOOPBACK_V6 = trustedProxies(["::1/128"]);

/**
 * 127.0.0.0/8 or ::1, of an address already normalized (no IPv4-mapped form): IPv4 by a string
 * test, since a BlockList lookup makes a SocketAddress per request (`npm run profile`).
 */
function isLoopback(ip: string): boolean {
  const family = isIP(ip);
  if (family === 4) return ip.startsWith("127.");
  return family === 6 && (ip === "::1" || LOOPBACK_V6.check(ip, "ipv6"));
}

/**
 * The client address: the socket's, unless the socket is a trusted proxy; only then the right-most
 * X-Forwarded-For entry that is not itself a trusted proxy. A request from the bundled proxy's own
 * listener (`viaProxy`) is always from a trusted proxy: Caddy writes X-Forwarded-For itself. A
 * forged header from anyone else changes nothing.
 */
export function clientIp(peer: string, forwardedFor: string | null, trusted: BlockList, viaProxy = false): string {
  let ip = viaProxy ? UNKNOWN_ADDRESS : normalize(peer);
  if (!forwardedFor || (!viaProxy && !isTrusted(trusted, ip))) return ip;
  const hops = forwardedFor.split(",").map((hop) => normalize(hop.trim()));
  for (let index = hops.length - 1; index >= 0; index -= 1) {
    if (!isIP(hops[index])) break;
    ip = hops[index];
    if (!isTrusted(trusted, ip)) break;
  }
  return ip;
}

export interface Client {
  /** The client address by the rule above. */
  ip: string;
  /**
   * A client on this machine that did not come through the bundled proxy: the only one that may
   * ever get the open actor (ARCHITECTURE.md, "Edge").
   */
  local: boolean;
}

let trustedCache: { source: string[]; list: BlockList } | undefined;
function trustedOf(source: string[]): BlockList {
  if (trustedCache?.source !== source) trustedCache = { source, list: trustedProxies(source) };
  return trustedCache.list;
}

/** The client of a request, from the headers the custom server set (server.ts) and TRUSTED_PROXIES. */
export function requestClient(headers: { get(name: string): string | null }, trustedEntries: string[]): Client {
  const viaProxy = headers.get(EDGE_HEADER) !== "direct";
  const ip = clientIp(
    headers.get(PEER_HEADER) ?? UNKNOWN_ADDRESS,
    headers.get("x-forwarded-for"),
    trustedOf(trustedEntries),
    viaProxy,
  );
  return { ip, local: !viaProxy && isLoopback(ip) };
}
