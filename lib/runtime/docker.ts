import Docker from "dockerode";
import { type AppSpec, parseWritablePath } from "../app-spec";
import type { ContainerRuntime, NetworkInfo, RuntimeEvent, RuntimeInstance, StartedContainer } from "./types";

export const LABEL = {
  managed: "tryitnow.managed",
  app: "tryitnow.app",
  instance: "tryitnow.instance",
  /** The Redis prefix of the deployment, so two deployments on one host never reap each other's containers. */
  deployment: "tryitnow.deployment",
  /** On a network: the deployment's base network (CONTAINER_NETWORK) it is one of the egress variants of. */
  network: "tryitnow.network",
} as const;

export const containerName = (id: string) => `tin-${id}`;

function tmpfsOf(app: AppSpec): Record<string, string> {
  const mounts: Record<string, string> = {};
  for (const entry of app.writablePaths) {
    const parsed = parseWritablePath(entry);
    if (parsed) mounts[parsed.path] = `rw,noexec,nosuid,nodev,size=${parsed.sizeMb}m`;
  }
  return mounts;
}

interface DockerOptions {
  socketPath: string;
  network: string;
  deployment: string;
  /** Resolvers given to the containers (CONTAINER_DNS); empty: Docker's choice (the host's). */
  dns: string[];
  timeoutMs?: number;
}

function statusOf(error: unknown): number | undefined {
  return (error as { statusCode?: number }).statusCode;
}

/** ContainerRuntime on a Docker engine through dockerode (ARCHITECTURE.md, "Containers"). */
export class DockerRuntime implements ContainerRuntime {
  private readonly docker: Docker;

  constructor(private readonly options: DockerOptions) {
    this.docker = new Docker({ socketPath: options.socketPath, timeout: options.timeoutMs ?? 30_000 });
  }

  async ping(): Promise<void> {
    await this.docker.ping();
  }

  async survivesRestart(): Promise<boolean> {
    const info = (await this.docker.info()) as { LiveRestoreEnabled?: boolean };
    return info.LiveRestoreEnabled === true;
  }

  async prepare(): Promise<void> {
    await this.ensureNetwork(this.options.network);
  }

  /** Networks being created by this process: concurrent provisions wait for the one creation. */
  private readonly creating = new Map<string, Promise<NetworkInfo>>();

  ensureNetwork(name: string): Promise<NetworkInfo> {
    let pending = this.creating.get(name);
    if (!pending) {
      pending = this.createNetworkOnce(name).finally(() => this.creating.delete(name));
      this.creating.set(name, pending);
    }
    return pending;
  }

  private async createNetworkOnce(name: string): Promise<NetworkInfo> {
    const found = (await this.networks()).find((network) => network.name === name);
    if (found) return found;
    try {
      await this.docker.createNetwork({
        Name: name,
        Driver: "bridge",
        CheckDuplicate: true,
        // Instances must not reach each other: inter-container traffic off on this bridge.
        Options: { "com.docker.network.bridge.enable_icc": "false" },
        Labels: { [LABEL.managed]: "true", [LABEL.network]: this.options.network },
      });
    } catch (error) {
      if (statusOf(error) !== 409) throw error;
    }
    // Docker does not refuse a second network of the same name (CheckDuplicate is gone from its
    // API), and a container cannot start on an ambiguous name: two processes that created one at
    // once keep the oldest and remove the others (no container is on them yet).
    const named = (await this.docker.listNetworks({ filters: { name: [name] } }))
      .filter((network) => network.Name === name)
      .sort((a, b) => a.Created.localeCompare(b.Created) || a.Id.localeCompare(b.Id));
    for (const extra of named.slice(1))
      await this.docker
        .getNetwork(extra.Id)
        .remove()
        .catch(() => undefined);
    const made = (await this.networks()).find((network) => network.name === name);
    if (!made) throw new Error(`docker network ${name} was not created`);
    return made;
  }

  async networks(): Promise<NetworkInfo[]> {
    const base = this.options.network;
    const listed = await this.docker.listNetworks();
    return listed
      .filter((network) => network.Name === base || network.Labels?.[LABEL.network] === base)
      .flatMap((network) => {
        const ipam = network.IPAM?.Config?.find((entry) => entry.Subnet && entry.Gateway && !entry.Subnet.includes(":"));
        if (!ipam?.Subnet || !ipam.Gateway) return [];
        const bridge = network.Options?.["com.docker.network.bridge.name"] ?? `br-${network.Id.slice(0, 12)}`;
        return [{ name: network.Name, bridge, subnet: ipam.Subnet, gateway: ipam.Gateway }];
      });
  }

  async start(app: AppSpec, id: string, env: Record<string, string>, network: string): Promise<StartedContainer> {
    const portKey = `${app.containerPort}/tcp`;
    let container: Docker.Container;
    try {
      container = await this.docker.createContainer({
        name: containerName(id),
        Image: app.image,
        Env: Object.entries(env).map(([key, value]) => `${key}=${value}`),
        Labels: {
          [LABEL.managed]: "true",
          [LABEL.app]: app.slug,
          [LABEL.instance]: id,
          [LABEL.deployment]: this.options.deployment,
        },
        ExposedPorts: { [portKey]: {} },
        HostConfig: {
          // Published on loopback only, to a port Docker picks: the proxy dials 127.0.0.1:<port>.
          PortBindings: { [portKey]: [{ HostIp: "127.0.0.1", HostPort: "" }] },
          NetworkMode: network,
          Dns: this.options.dns.length ? this.options.dns : undefined,
          CapDrop: ["ALL"],
          CapAdd: app.capAdd,
          SecurityOpt: ["no-new-privileges"],
          PidsLimit: app.pidsLimit,
          Memory: app.memoryMb * 1024 * 1024,
          MemorySwap: app.memoryMb * 1024 * 1024,
          NanoCpus: app.cpuMillis * 1_000_000,
          RestartPolicy: { Name: "no" },
          // Nothing on the host's disk: a read-only root and size-limited memory file systems for the
          // paths the app declared (their pages count against the memory limit too).
          ReadonlyRootfs: true,
          Tmpfs: tmpfsOf(app),
          LogConfig: { Type: "json-file", Config: { "max-size": "1m", "max-file": "1" } },
        },
      });
    } catch (error) {
      // 409: a container of that name exists (a retried job, a crashed worker): adopt it.
      if (statusOf(error) !== 409) throw error;
      container = this.docker.getContainer(containerName(id));
    }
    try {
      await container.start();
    } catch (error) {
      if (statusOf(error) !== 304) throw error; // already running
    }
    const info = await container.inspect();
    const binding = info.NetworkSettings.Ports?.[portKey]?.find((b) => b.HostIp === "127.0.0.1");
    if (!binding) throw new Error(`container ${containerName(id)} has no loopback port for ${portKey}`);
    const address = info.NetworkSettings.Networks?.[network]?.IPAddress;
    if (!address) throw new Error(`container ${containerName(id)} has no address on ${network}`);
    return { containerId: info.Id, hostPort: Number(binding.HostPort), address };
  }

  async addressOf(id: string): Promise<string | null> {
    try {
      const info = await this.docker.getContainer(containerName(id)).inspect();
      return Object.values(info.NetworkSettings.Networks ?? {}).find((network) => network.IPAddress)?.IPAddress ?? null;
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw error;
    }
  }

  async remove(id: string): Promise<void> {
    try {
      await this.docker.getContainer(containerName(id)).remove({ force: true, v: true });
    } catch (error) {
      const status = statusOf(error);
      // 404: already gone; 409: removal already in progress.
      if (status !== 404 && status !== 409) throw error;
    }
  }

  watch(onEvent: (event: RuntimeEvent) => void): () => void {
    let stopped = false;
    let current: NodeJS.ReadableStream | undefined;
    const connect = async () => {
      if (stopped) return;
      try {
        // No timeout: an event stream stays open; it reconnects when Docker closes it.
        const stream = await new Docker({ socketPath: this.options.socketPath }).getEvents({
          filters: {
            type: ["container"],
            event: ["oom", "die"],
            label: [`${LABEL.managed}=true`, `${LABEL.deployment}=${this.options.deployment}`],
          },
        });
        current = stream;
        let buffer = "";
        stream.on("data", (chunk: Buffer) => {
          buffer += chunk.toString("utf8");
          let newline = buffer.indexOf("\n");
          while (newline >= 0) {
            const line = buffer.slice(0, newline);
            buffer = buffer.slice(newline + 1);
            newline = buffer.indexOf("\n");
            try {
              const event = JSON.parse(line) as { Action?: string; Actor?: { Attributes?: Record<string, string> } };
              const attributes = event.Actor?.Attributes ?? {};
              if ((event.Action === "oom" || event.Action === "die") && attributes[LABEL.instance]) {
                onEvent({ id: attributes[LABEL.instance], app: attributes[LABEL.app], kind: event.Action });
              }
            } catch {
              // a partial or foreign line
            }
          }
        });
        stream.on("close", () => setTimeout(connect, 1000));
        stream.on("error", () => undefined);
      } catch {
        setTimeout(connect, 1000);
      }
    };
    void connect();
    return () => {
      stopped = true;
      (current as unknown as { destroy?: () => void })?.destroy?.();
    };
  }

  async list(): Promise<RuntimeInstance[]> {
    const containers = await this.docker.listContainers({
      all: true,
      filters: { label: [`${LABEL.managed}=true`, `${LABEL.deployment}=${this.options.deployment}`] },
    });
    return containers.map((c) => ({
      id: c.Labels[LABEL.instance],
      app: c.Labels[LABEL.app],
      containerId: c.Id,
      running: c.State === "running",
      hostPort: c.Ports.find((p) => p.IP === "127.0.0.1" && p.PublicPort)?.PublicPort ?? null,
      address: Object.values(c.NetworkSettings?.Networks ?? {}).find((network) => network.IPAddress)?.IPAddress ?? null,
    }));
  }
}
