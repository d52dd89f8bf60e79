import { readFileSync } from "node:fs";
import type { AppSpec } from "../app-spec";
import type { Logger } from "../log";
import type { ContainerRuntime, NetworkInfo, RuntimeInstance } from "../runtime/types";
import { listTable, nft } from "./nft";
import {
  type AppPolicy,
  EGRESS_MODES,
  type EgressMode,
  type EgressNetwork,
  elementsText,
  type InstanceVerdicts,
  networkName,
  type PolicyInput,
  parseAllowEntry,
  rulesetText,
  SHARED_CHAINS,
  tableName,
  verdictsOf,
} from "./policy";

export interface FirewallOptions {
  runtime: ContainerRuntime;
  log: Logger;
  /** CONTAINER_NETWORK: the base of the deployment's networks, and the name of its table. */
  baseNetwork: string;
  apiPort: number;
  dnsServers: string[];
  /** The demo database server's address and port, which apps with a database may reach. */
  demoDb: { address: string; port: number } | null;
  /** EGRESS_RULES=off: networks as usual, no rules (the bench's baseline). */
  enabled: boolean;
  /** Runs a change of the table while holding the deployment's egress lock (`withLock`, Redis). */
  lock: <T>(task: () => Promise<T>) => Promise<T>;
}

export function policyOf(app: Pick<AppSpec, "slug" | "egress" | "egressAllow" | "apiAccess" | "database">): AppPolicy {
  const allow = app.egress === "allow" ? app.egressAllow.flatMap((entry) => parseAllowEntry(entry) ?? []) : [];
  return { slug: app.slug, mode: app.egress, api: app.apiAccess, db: app.database === "mariadb", allow };
}

/** The IPv4 resolvers of /etc/resolv.conf that a container can reach (not loopback). */
export function hostResolvers(path = "/etc/resolv.conf"): string[] {
  try {
    return readFileSync(path, "utf8")
      .split("\n")
      .map((line) => /^\s*nameserver\s+(\d+\.\d+\.\d+\.\d+)\s*$/.exec(line)?.[1])
      .filter((address): address is string => !!address && !address.startsWith("127."));
  } catch {
    return [];
  }
}

/**
 * The kernel's side of the egress policy (ARCHITECTURE.md, "Egress"): one nftables table per
 * deployment, rebuilt whole whenever its static part (networks, allow lists, resolvers) changes,
 * and two maps (instance address → its app's chains) kept in step with the running instances.
 * Fail closed: `prepare` throws unless the rules for the app's network are in place, and nothing
 * starts before it returns.
 */
export class EgressFirewall {
  readonly table: string;
  private apps = new Map<string, AppPolicy>();
  /** The fingerprint this process last found in the kernel, and when (see `prepare`). */
  private verified: { fingerprint: string; atMs: number } | null = null;

  constructor(private readonly options: FirewallOptions) {
    this.table = tableName(options.baseNetwork);
  }

  /** The apps whose allow lists the rules carry; called with every app sync. */
  setApps(apps: AppSpec[]): void {
    this.apps = new Map(apps.map((app) => [app.slug, policyOf(app)]));
  }

  /**
   * The network an app's next instance starts on, created if needed, with the rules for it and for
   * the app in place (found in the kernel, at most VERIFIED_FOR_MS ago). Throws when they cannot be.
   */
  async prepare(app: AppSpec): Promise<NetworkInfo> {
    const policy = policyOf(app);
    this.apps.set(app.slug, policy);
    const name = networkName(this.options.baseNetwork, policy.mode, policy.api);
    let networks = await this.options.runtime.networks();
    let network = networks.find((candidate) => candidate.name === name);
    if (!network) {
      network = await this.options.runtime.ensureNetwork(name);
      networks = [...networks, network];
    }
    if (!this.options.enabled) return network;
    // The kernel is asked again unless this very input was found there in the last VERIFIED_FOR_MS
    // (the egress loop checks every 2 s). Skipping it is still fail closed: a table deleted since
    // makes `admit` fail, and nothing is ready before `admit` returns. A new network or a changed
    // allow list changes the fingerprint, so it is always checked.
    const fingerprint = fingerprintOf(this.inputFor(networks));
    if (this.verified?.fingerprint === fingerprint && performance.now() - this.verified.atMs < VERIFIED_FOR_MS) return network;
    // Changing the table is one writer at a time across workers, listing the networks again inside
    // the lock, so an install never leaves out a network another worker has just created.
    if (holds(await listTable(this.table), fingerprint)) this.remember(fingerprint);
    else await this.options.lock(() => this.syncLocked(null));
    return network;
  }

  /**
   * Puts a new instance's address in the maps; fails when the table or the app's chain is missing.
   * Runs beside the health check, and the instance is ready only after both.
   */
  async admit(app: AppSpec, address: string): Promise<void> {
    if (!this.options.enabled) return;
    const script = `${elementsText(this.table, new Map([[address, verdictsOf(policyOf(app))]]))}\n`;
    // Under the lock: a reinstall running at the same time would not know of this entry.
    await this.options.lock(async () => {
      try {
        await nft(["-f", "-"], script);
      } catch {
        // An entry of a removed container that had this address (its cleanup never ran): replaced.
        await this.forget(address);
        await nft(["-f", "-"], script);
      }
    });
  }

  /** Takes an address out of the maps (the instance is being removed); an absent one is fine. */
  async forget(address: string | null): Promise<void> {
    if (!this.options.enabled || !address) return;
    for (const map of ["out_by_instance", "host_by_instance"]) {
      await nft(["delete", "element", "inet", this.table, map, `{ ${address} }`]).catch(() => undefined);
    }
  }

  /**
   * Level-triggered: the table as it must be. Reinstalls it whole when missing or when its static
   * part differs (rules deleted or changed by hand come back here); with `instances`, brings the maps
   * to exactly the running instances under their apps' current policies (a changed `egress` bites on
   * running instances here). Returns what it did.
   */
  async sync(listInstances: (() => Promise<RuntimeInstance[]>) | null): Promise<{ reinstalled: boolean; changed: number }> {
    if (!this.options.enabled) return { reinstalled: false, changed: 0 };
    return this.options.lock(() => this.syncLocked(listInstances));
  }

  private inputFor(networks: NetworkInfo[]): PolicyInput {
    return {
      table: this.table,
      networks: this.egressNetworks(networks),
      // Sorted: Docker and the app sync list in no fixed order, and the fingerprint must not flap.
      apps: [...this.apps.values()].sort((a, b) => a.slug.localeCompare(b.slug)),
      dnsServers: this.options.dnsServers,
      apiPort: this.options.apiPort,
      demoDb: this.options.demoDb,
    };
  }

  private async syncLocked(
    listInstances: (() => Promise<RuntimeInstance[]>) | null,
  ): Promise<{ reinstalled: boolean; changed: number }> {
    const input = this.inputFor(await this.options.runtime.networks());
    const networks = input.networks;
    // The table first, the instances after: an instance admitted in between is in the second
    // listing, so it is never taken for a stale entry.
    const table = await listTable(this.table);
    const desired = listInstances ? this.verdicts(await listInstances()) : null;
    const fingerprint = fingerprintOf(input);
    if (!holds(table, fingerprint)) {
      // The maps are kept (what they hold now) unless the instances were listed; an entry whose
      // chain is gone (its app deleted or no longer on an allow list) falls to its network's mode.
      const chains = chainsOf(input.apps);
      const keep = new Map([...(desired ?? currentVerdicts(table))].filter(([, v]) => chains.has(v.out) && chains.has(v.host)));
      const { text } = rulesetText(input, keep);
      await nft(["-f", "-"], text);
      this.remember(fingerprint);
      this.options.log.info(
        { table: this.table, networks: networks.map((n) => n.name), fingerprint, replaced: !!table },
        "egress rules installed",
      );
      return { reinstalled: true, changed: keep.size };
    }
    this.remember(fingerprint);
    if (!desired) return { reinstalled: false, changed: 0 };
    const current = currentVerdicts(table);
    const same = (a?: { out: string; host: string }, b?: { out: string; host: string }) =>
      a?.out === b?.out && a?.host === b?.host;
    const stale = [...current.keys()].filter((address) => !same(current.get(address), desired.get(address)));
    const added: InstanceVerdicts = new Map([...desired].filter(([address, verdicts]) => !same(current.get(address), verdicts)));
    const script = stale.flatMap((address) =>
      ["out_by_instance", "host_by_instance"].map((map) => `delete element inet ${this.table} ${map} { ${address} }`),
    );
    const elements = elementsText(this.table, added);
    if (elements) script.push(elements);
    if (script.length) await nft(["-f", "-"], `${script.join("\n")}\n`);
    return { reinstalled: false, changed: new Set([...stale, ...added.keys()]).size };
  }

  /** `npm run down -- --purge`: the rules go with the instances. */
  async remove(): Promise<void> {
    this.verified = null;
    await nft(["delete", "table", "inet", this.table]).catch(() => undefined);
  }

  private remember(fingerprint: string): void {
    this.verified = { fingerprint, atMs: performance.now() };
  }

  private verdicts(instances: RuntimeInstance[]): InstanceVerdicts {
    const verdicts: InstanceVerdicts = new Map();
    for (const instance of instances) {
      const app = this.apps.get(instance.app);
      // An app no longer known (deleted): its instances keep their network's own mode until removed.
      if (instance.address && app) verdicts.set(instance.address, verdictsOf(app));
    }
    return verdicts;
  }

  private egressNetworks(networks: NetworkInfo[]): EgressNetwork[] {
    return networks
      .flatMap((network) => {
        const kind = kindOf(this.options.baseNetwork, network.name);
        return kind ? [{ ...network, ...kind }] : [];
      })
      .sort((a, b) => a.name.localeCompare(b.name));
  }
}

/** How long a fingerprint found in the kernel is trusted by `prepare` without asking again. */
const VERIFIED_FOR_MS = 5000;

function fingerprintOf(input: PolicyInput): string {
  return rulesetText(input, new Map()).fingerprint;
}

/** Whether the kernel's table is the one with this fingerprint (in a comment). */
function holds(table: Awaited<ReturnType<typeof listTable>>, fingerprint: string): boolean {
  return !!table?.comments.some((comment) => comment.includes(fingerprint));
}

/** The mode and entitlement a network's name stands for (see `networkName`); null for a foreign name. */
function kindOf(base: string, name: string): { mode: EgressMode; api: boolean } | null {
  for (const mode of EGRESS_MODES)
    for (const api of [true, false]) if (networkName(base, mode, api) === name) return { mode, api };
  return null;
}

/** Every chain an instance's verdict may jump to under these apps. */
function chainsOf(apps: AppPolicy[]): Set<string> {
  const chains = new Set(SHARED_CHAINS);
  for (const app of apps) chains.add(verdictsOf(app).out);
  return chains;
}

function currentVerdicts(listed: Awaited<ReturnType<typeof listTable>>): InstanceVerdicts {
  const verdicts: InstanceVerdicts = new Map();
  const out = listed?.maps.get("out_by_instance") ?? new Map<string, string>();
  const host = listed?.maps.get("host_by_instance") ?? new Map<string, string>();
  for (const [address, chain] of out) {
    const hostChain = host.get(address);
    if (hostChain) verdicts.set(address, { out: chain, host: hostChain });
  }
  return verdicts;
}
