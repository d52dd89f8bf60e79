/**
 * A network namespace of the test's own, joined to the host by a veth pair: clients inside it reach
 * the host's end of the pair as a remote machine would, from addresses that are not loopback. Every
 * address the test sends to is checked with `ip route get` inside the namespace first (it must go
 * over the pair, nowhere else), and the namespace and pair are removed afterwards.
 */
import { spawnSync } from "node:child_process";

export interface Namespace {
  name: string;
  /** The host's end of the pair: what clients in the namespace dial. */
  hostAddress: string;
  /** The namespace's own addresses (clients pick one with `from`). */
  clientAddresses: string[];
  /** The host's end of the pair. */
  hostEnd: string;
  /** Throws unless the host routes `target` into this namespace (checked before a container sends to it). */
  assertRoutedHere(target: string): void;
  /** One HTTP request from inside the namespace (curl), from one of its addresses. */
  request(options: NsRequest): { status: number; text: string; headers: string };
  remove(): void;
}

export interface NsRequest {
  from: string;
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

function ip(args: string[], allowFailure = false): string {
  const result = spawnSync("ip", args, { encoding: "utf8", timeout: 10_000 });
  if (result.status !== 0 && !allowFailure) throw new Error(`ip ${args.join(" ")} failed: ${result.stderr}`);
  return result.stdout;
}

/**
 * Makes namespace `name` with `hostAddress` on the host's end of the pair and `clientAddresses` on
 * the namespace's end, all in one /29 (10.254.254.0/29 by default: nothing else on this machine
 * uses it; the check below refuses to run if that is not so).
 */
export function makeNamespace(
  name: string,
  hostAddress = "10.254.254.1",
  clientAddresses = ["10.254.254.2", "10.254.254.3"],
  /** Further networks (`198.51.100.2/24`) on the namespace's end, routed there from the host. */
  routed: string[] = [],
): Namespace {
  const hostEnd = `${name.slice(0, 8)}-h`;
  const nsEnd = `${name.slice(0, 8)}-n`;
  // Leftovers of a killed run go first.
  ip(["netns", "del", name], true);
  ip(["link", "del", hostEnd], true);
  const subnet = `${hostAddress}/29`;
  const taken =
    ip(["-o", "addr", "show", "to", subnet]).trim() ||
    ip(["route", "show", "to", "match", hostAddress])
      .split("\n")
      .filter((line) => line && !line.startsWith("default"))
      .join("\n");
  if (taken) throw new Error(`${subnet} is in use on this machine (${taken.trim()}); refusing to use it`);
  ip(["netns", "add", name]);
  ip(["link", "add", hostEnd, "type", "veth", "peer", "name", nsEnd]);
  ip(["link", "set", nsEnd, "netns", name]);
  ip(["addr", "add", `${hostAddress}/29`, "dev", hostEnd]);
  ip(["link", "set", hostEnd, "up"]);
  for (const address of clientAddresses) ip(["-n", name, "addr", "add", `${address}/29`, "dev", nsEnd]);
  ip(["-n", name, "link", "set", nsEnd, "up"]);
  ip(["-n", name, "link", "set", "lo", "up"]);
  for (const network of routed) {
    const prefix = ip(["-o", "-4", "route", "show", "to", "match", network.split("/")[0]])
      .split("\n")
      .filter((line) => line && !line.startsWith("default"));
    if (prefix.length) throw new Error(`${network} is routed on this machine already (${prefix.join("; ")}); refusing to use it`);
    ip(["-n", name, "addr", "add", network, "dev", nsEnd]);
    ip(["route", "add", network.replace(/\.\d+\//, ".0/"), "dev", hostEnd]);
  }

  const checked = new Set<string>();
  const checkRoute = (target: string) => {
    if (checked.has(target)) return;
    const route = ip(["-n", name, "route", "get", target]);
    if (!route.includes(`dev ${nsEnd}`) || /\bvia\b/.test(route))
      throw new Error(`refusing to send to ${target}: its route from ${name} is "${route.trim()}"`);
    checked.add(target);
  };

  return {
    name,
    hostAddress,
    clientAddresses,
    hostEnd,
    assertRoutedHere(target: string) {
      const route = ip(["route", "get", target]);
      if (!route.includes(`dev ${hostEnd}`))
        throw new Error(`refusing to send to ${target}: the host routes it "${route.trim()}"`);
    },
    request({ from, url, method = "GET", headers = {}, body }) {
      const target = new URL(url);
      checkRoute(target.hostname);
      const args = [
        "netns",
        "exec",
        name,
        "curl",
        "-s",
        "-m",
        "10",
        "--interface",
        from,
        "-X",
        method,
        "-D",
        "-",
        "-o",
        "-",
        "-w",
        "\n%{http_code}",
      ];
      for (const [header, value] of Object.entries(headers)) args.push("-H", `${header}: ${value}`);
      if (body !== undefined) args.push("--data-binary", body);
      args.push(url);
      const result = spawnSync("ip", args, { encoding: "utf8", timeout: 15_000 });
      const output = result.stdout ?? "";
      const cut = output.lastIndexOf("\n");
      const status = Number(output.slice(cut + 1)) || 0;
      const message = output.slice(0, cut);
      const split = message.indexOf("\r\n\r\n");
      return { status, headers: split < 0 ? "" : message.slice(0, split), text: split < 0 ? message : message.slice(split + 4) };
    },
    remove() {
      ip(["netns", "del", name], true);
      ip(["link", "del", hostEnd], true);
    },
  };
}
