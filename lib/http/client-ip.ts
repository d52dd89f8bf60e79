import { BlockList, isIP } from "node:net";
import { normalizeAddress as normalize } from "../net/address";

/** Header the custom server sets from the socket (overwriting anything a client sent). */
export const PEER_HEADER = "x-tin-peer-ip";

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

/**
 * The client address: the socket's, unless the socket is a trusted proxy; only then the right-most
 * X-Forwarded-For entry that is not itself a trusted proxy. A forged header from anyone else changes nothing.
 */
export function clientIp(peer: string, forwardedFor: string | null, trusted: BlockList): string {
  let ip = normalize(peer);
  if (!forwardedFor || !isTrusted(trusted, ip)) return ip;
  const hops = forwardedFor.split(",").map((hop) => normalize(hop.trim()));
  for (let index = hops.length - 1; index >= 0; index -= 1) {
    if (!isIP(hops[index])) break;
    ip = hops[index];
    if (!isTrusted(trusted, ip)) break;
  }
  return ip;
}
