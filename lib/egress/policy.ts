import { createHash } from "node:crypto";

/**
 * What an app's instances may reach (ARCHITECTURE.md, "Egress"): `public` the internet only,
 * `none` nothing, `allow` nothing but its list — each with the product services it is entitled to.
 */
export const EGRESS_MODES = ["public", "none", "allow"] as const;
export type EgressMode = (typeof EGRESS_MODES)[number];

/**
 * Refused to every instance, whatever its mode: private, loopback, link-local (the metadata address
 * 169.254.169.254 among them), CGNAT, benchmarking, multicast and reserved IPv4. The documentation
 * ranges 192.0.2.0/24, 198.51.100.0/24 and 203.0.113.0/24 are not in it on purpose: tests prove with
 * them that `public` passes traffic. The host's own addresses are refused on the host's side.
 */
export const DENIED_RANGES = [
  "0.0.0.0/8",
  "10.0.0.0/8",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.0.0.0/24",
  "192.88.99.0/24",
  "192.168.0.0/16",
  "198.18.0.0/15",
  "224.0.0.0/4",
  "240.0.0.0/4",
] as const;

/** Mail submission and relay (spam), and the usual stratum ports of mining pools. */
export const DENIED_PORTS = [25, 465, 587, 3333, 4444, 5555, 6666, 7777, 9999, 14433, 14444, 45560, 45700] as const;

/** One entry of an `allow` list: a destination network and port (TCP and UDP). */
export interface AllowEntry {
  cidr: string;
  port: number;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** `203.0.113.0/24:443` (or `203.0.113.7:443`, a single address) → its parts; null when malformed. */
export function parseAllowEntry(text: string): AllowEntry | null {
  const match = /^([\d.]+)(?:\/(\d{1,2}))?:(\d{1,5})$/.exec(text.trim());
  if (!match || !IPV4.test(match[1])) return null;
  const bits = match[2] === undefined ? 32 : Number(match[2]);
  const port = Number(match[3]);
  if (bits > 32 || port < 1 || port > 65535) return null;
  return { cidr: `${match[1]}/${bits}`, port };
}

/** A Docker network of the deployment, with the mode and services its instances start with. */
export interface EgressNetwork {
  name: string;
  /** The bridge interface on the host (`br-<id>`): what the kernel sees packets arrive on. */
  bridge: string;
  subnet: string;
  gateway: string;
  mode: EgressMode;
  api: boolean;
}

/** An app's policy as the rules need it. */
export interface AppPolicy {
  slug: string;
  mode: EgressMode;
  api: boolean;
  /** Its instances have a database: they may reach the demo database server. */
  db: boolean;
  allow: AllowEntry[];
}

export interface PolicyInput {
  /** The nftables table of this deployment (`tableName`). */
  table: string;
  networks: EgressNetwork[];
  apps: AppPolicy[];
  /** The resolvers instances may ask (port 53): what they are given as their DNS. */
  dnsServers: string[];
  /** The proxy's port on the host, where `TRYIT_API_URL` points. */
  apiPort: number;
  /** The demo database server (ARCHITECTURE.md, "Demo databases"), for the apps that have a database. */
  demoDb: { address: string; port: number } | null;
}

/** Instance address → the chains that apply to it (its app's current policy). */
export type InstanceVerdicts = Map<string, { out: string; host: string }>;

/** The network name of a mode and entitlement: the deployment's base network is `public` with the API. */
export function networkName(base: string, mode: EgressMode, api: boolean): string {
  if (mode === "public" && api) return base;
  return `${base}-${mode}${api ? "-api" : ""}`;
}

/** nftables table of the deployment, named after its base network. */
export function tableName(baseNetwork: string): string {
  return `tryitnow_${baseNetwork.replace(/[^A-Za-z0-9]/g, "_")}`;
}

const appChain = (slug: string) => `out_allow_${slug.replace(/-/g, "_")}`;

function outChain(mode: EgressMode, slug: string | null): string {
  if (mode === "public") return "out_public";
  if (mode === "allow" && slug) return appChain(slug);
  return "out_none";
}

const hostChain = (mode: EgressMode, api: boolean, db = false) =>
  `host_${mode === "public" ? "dns" : "closed"}${api ? "_api" : ""}${db ? "_db" : ""}`;

const HOST_KINDS = (["public", "none"] as const).flatMap((mode) =>
  [false, true].flatMap((api) => [false, true].map((db) => ({ mode, api, db }))),
);

/** The chains every table holds that an instance's verdict may jump to (an `allow` app adds its own). */
export const SHARED_CHAINS: readonly string[] = [
  outChain("public", null),
  outChain("none", null),
  ...HOST_KINDS.map(({ mode, api, db }) => hostChain(mode, api, db)),
];

/** The chains for one instance of an app. */
export function verdictsOf(app: AppPolicy): { out: string; host: string } {
  return { out: outChain(app.mode, app.slug), host: hostChain(app.mode, app.api, app.db) };
}

const set = (items: readonly (string | number)[]) => (items.length ? `{ ${items.join(", ")} }` : null);

/**
 * The deployment's whole ruleset as one `nft -f` text that replaces the table atomically. Base
 * chains hook forward (what instances send through the host) and input (what they send to the host
 * itself: the gateway, where Caddy and anything else on all interfaces listen), before Docker's own
 * chains; a drop here is final, an accept lets Docker's rules decide as before. Packets are taken by
 * the bridge they arrive on, so an instance cannot step out by forging its source address.
 */
export function rulesetText(input: PolicyInput, instances: InstanceVerdicts): { text: string; fingerprint: string } {
  const fingerprint = createHash("sha256").update(tableBody(input, "")).digest("hex").slice(0, 16);
  const body = tableBody(input, fingerprint);
  const lines = [
    `table inet ${input.table}`,
    `delete table inet ${input.table}`,
    `table inet ${input.table} {`,
    `  comment "Try It Now egress policy ${fingerprint}: what demo instances may reach (ARCHITECTURE.md, Egress)"`,
    body,
    "}",
  ];
  const elements = elementsText(input.table, instances);
  if (elements) lines.push(elements);
  return { text: `${lines.join("\n")}\n`, fingerprint };
}

/** `add element` lines for the instance maps. */
export function elementsText(table: string, instances: InstanceVerdicts): string {
  if (!instances.size) return "";
  const out = [...instances].map(([address, verdicts]) => `${address} : jump ${verdicts.out}`);
  const host = [...instances].map(([address, verdicts]) => `${address} : jump ${verdicts.host}`);
  return [
    `add element inet ${table} out_by_instance { ${out.join(", ")} }`,
    `add element inet ${table} host_by_instance { ${host.join(", ")} }`,
  ].join("\n");
}

function tableBody(input: PolicyInput, fingerprint: string): string {
  const dns = set(input.dnsServers);
  const gateways = set(input.networks.map((network) => network.gateway));
  const dnsAccept = dns
    ? [`    ip daddr ${dns} meta l4proto { tcp, udp } th dport 53 accept comment "the resolvers instances are given"`]
    : [];
  const apiAccept = gateways
    ? [`    ip daddr ${gateways} tcp dport ${input.apiPort} accept comment "the API (TRYIT_API_URL) through the proxy"`]
    : [];
  const dbAccept = input.demoDb
    ? [
        `    ip daddr ${input.demoDb.address} tcp dport ${input.demoDb.port} accept comment "the demo database server (apps with a database)"`,
      ]
    : [];
  const reject = (why: string) => `    counter reject with icmpx type admin-prohibited comment "${why}"`;
  const chains: string[] = [];
  const chain = (name: string, rules: string[], hook?: string) => {
    chains.push(`  chain ${name} {`, ...(hook ? [`    ${hook}`] : []), ...rules, "  }");
  };

  chain("deny_common", [
    `    meta l4proto { tcp, udp } th dport ${set(DENIED_PORTS)} counter reject with icmpx type admin-prohibited comment "mail and mining-pool ports"`,
    `    ip daddr ${set(DENIED_RANGES)} counter reject with icmpx type admin-prohibited comment "private, loopback, link-local (metadata), CGNAT, multicast, reserved"`,
  ]);
  chain("out_public", [...dnsAccept, "    jump deny_common", '    accept comment "public: the internet"']);
  chain("out_none", [reject("none: nothing outbound")]);
  for (const app of input.apps.filter((candidate) => candidate.mode === "allow")) {
    const rules = app.allow.map(
      (entry) =>
        `    ip daddr ${entry.cidr} meta l4proto { tcp, udp } th dport ${entry.port} accept comment "allow list of ${app.slug}"`,
    );
    chain(appChain(app.slug), ["    jump deny_common", ...rules, reject(`allow: nothing else for ${app.slug}`)]);
  }
  for (const { mode, api, db } of HOST_KINDS) {
    const rules = [
      ...(mode === "public" ? dnsAccept : []),
      ...(api ? apiAccept : []),
      ...(db ? dbAccept : []),
      reject("the host itself"),
    ];
    chain(hostChain(mode, api, db), rules);
  }

  const forward: string[] = [];
  const hostInput: string[] = [];
  for (const network of input.networks) {
    const id = network.bridge.replace(/[^A-Za-z0-9]/g, "_");
    forward.push(`    iifname "${network.bridge}" jump from_${id} comment "network ${network.name}"`);
    hostInput.push(`    iifname "${network.bridge}" jump to_host_${id} comment "network ${network.name}"`);
    const guard = [
      '    meta nfproto ipv6 counter drop comment "instances have no IPv6"',
      `    ip saddr != ${network.subnet} counter drop comment "a forged source address"`,
      "    ct state established,related accept",
    ];
    chain(`from_${id}`, [
      ...guard,
      "    ip saddr vmap @out_by_instance",
      `    jump ${outChain(network.mode, null)} comment "the network's own mode"`,
    ]);
    chain(`to_host_${id}`, [
      ...guard,
      "    ip saddr vmap @host_by_instance",
      `    jump ${hostChain(network.mode, network.api)} comment "the network's own mode"`,
    ]);
  }
  chain("forward", forward, "type filter hook forward priority filter - 5; policy accept;");
  chain("input", hostInput, "type filter hook input priority filter - 5; policy accept;");

  const maps = [
    // The fingerprint rides in a map's comment too: nft 1.0.6's JSON listing leaves table comments out.
    `  map out_by_instance { type ipv4_addr : verdict; comment "each instance: its app's outbound policy (policy ${fingerprint})"; }`,
    '  map host_by_instance { type ipv4_addr : verdict; comment "each instance: what of the host it may reach"; }',
  ];
  return [...maps, ...chains].join("\n");
}
