import { isIPv4, isIPv6 } from "node:net";

/** An IPv4 address mapped into IPv6 (`::ffff:1.2.3.4`, as dual-stack sockets report it) as plain IPv4. */
export function normalizeAddress(ip: string): string {
  return ip.startsWith("::ffff:") && ip.includes(".") ? ip.slice(7) : ip;
}

/** The eight 16-bit groups of an IPv6 address (a dotted IPv4 tail counts as the last two). */
function ipv6Groups(address: string): number[] {
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1].split(".").map(Number);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail = ""] = text.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = text.includes("::") ? [...left, ...Array(8 - left.length - right.length).fill("0"), ...right] : left;
  return groups.map((group) => Number.parseInt(group || "0", 16));
}

/** An IPv6 address cut to its first `bits` bits, written `<groups>::/<bits>`. */
function ipv6Prefix(address: string, bits: number): string {
  const groups = ipv6Groups(address);
  const kept: string[] = [];
  for (let index = 0; index * 16 < bits; index += 1) {
    const take = Math.min(16, bits - index * 16);
    kept.push((groups[index] & ((0xffff << (16 - take)) & 0xffff)).toString(16));
  }
  return `${kept.join(":")}${kept.length < 8 ? "::" : ""}/${bits}`;
}

/** A client address as the dashboard shows it: IPv4 by its /24, IPv6 by its /48; never the whole address. */
export function maskAddress(ip: string): string {
  const address = normalizeAddress(ip);
  if (isIPv4(address)) return `${address.split(".").slice(0, 3).join(".")}.0/24`;
  if (!isIPv6(address)) return "unknown";
  return ipv6Prefix(address, 48);
}

/**
 * The limit key of a client address: IPv4 as is, IPv6 by its first `ipv6PrefixBits` bits
 * (`IPV6_PREFIX_LENGTH`, default /56: what one subscriber is usually given), so one client cannot
 * rotate through its own addresses to escape a limit.
 */
export function clientKey(ip: string, ipv6PrefixBits: number): string {
  const address = normalizeAddress(ip);
  if (!isIPv6(address)) return address;
  return ipv6Prefix(address, ipv6PrefixBits);
}

/** An IPv4 address cut to its first `bits` bits, written `a.b.c.d/<bits>`. */
function ipv4Prefix(address: string, bits: number): string {
  const value = address.split(".").reduce((sum, part) => sum * 256 + Number(part), 0);
  const network = value - (value % 2 ** (32 - bits));
  return `${[24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256).join(".")}/${bits}`;
}

/** The narrowest block a list may hold per family, and the widest: a block of everyone is refused. */
export const BLOCK_PREFIX_MIN = { ipv4: 8, ipv6: 16 } as const;

/**
 * A CIDR (or a single address) as the block list stores it: the network address at its length,
 * IPv4 at /8 to /32, IPv6 at /16 to /128; null when it is neither.
 */
export function parseBlock(text: string): string | null {
  const [rawAddress, rawBits, extra] = text.trim().split("/");
  if (extra !== undefined) return null;
  const address = normalizeAddress(rawAddress ?? "");
  const family = isIPv4(address) ? "ipv4" : isIPv6(address) ? "ipv6" : null;
  if (!family) return null;
  const max = family === "ipv4" ? 32 : 128;
  const bits = rawBits === undefined ? max : /^\d{1,3}$/.test(rawBits) ? Number(rawBits) : Number.NaN;
  if (!(bits >= BLOCK_PREFIX_MIN[family] && bits <= max)) return null;
  return family === "ipv4" ? ipv4Prefix(address, bits) : ipv6Prefix(address, bits);
}

/** Every block that would cover this address (its prefixes from the widest allowed to itself), as `parseBlock` writes them. */
export function blockCandidates(ip: string): string[] {
  const address = normalizeAddress(ip);
  const family = isIPv4(address) ? "ipv4" : isIPv6(address) ? "ipv6" : null;
  if (!family) return [];
  const max = family === "ipv4" ? 32 : 128;
  const out: string[] = [];
  for (let bits = BLOCK_PREFIX_MIN[family]; bits <= max; bits += 1) {
    out.push(family === "ipv4" ? ipv4Prefix(address, bits) : ipv6Prefix(address, bits));
  }
  return out;
}
