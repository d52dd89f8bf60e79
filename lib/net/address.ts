import { isIPv4, isIPv6 } from "node:net";

/** An IPv4 address mapped into IPv6 (`::ffff:1.2.3.4`, as dual-stack sockets report it) as plain IPv4. */
export function normalizeAddress(ip: string): string {
  return ip.startsWith("::ffff:") && ip.includes(".") ? ip.slice(7) : ip;
}

/** A client address as the dashboard shows it: IPv4 by its /24, IPv6 by its /48; never the whole address. */
export function maskAddress(ip: string): string {
  const address = normalizeAddress(ip);
  if (isIPv4(address)) return `${address.split(".").slice(0, 3).join(".")}.0/24`;
  if (!isIPv6(address)) return "unknown";
  const [head] = clientKey(address).split("::");
  return `${head.split(":").slice(0, 3).join(":")}::/48`;
}

/** The rate-limit key of a client address: IPv4 as is, IPv6 by its /64 (one subscriber's prefix). */
export function clientKey(ip: string): string {
  const address = normalizeAddress(ip);
  if (!isIPv6(address)) return address;
  const [head, tail = ""] = address.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = address.includes("::") ? [...left, ...Array(8 - left.length - right.length).fill("0"), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g || "0", 16).toString(16))
    .join(":")}::/64`;
}
