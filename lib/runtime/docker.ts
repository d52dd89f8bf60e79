import Docker from "dockerode";
import type { AppSpec } from "../app-spec";
import type { ContainerRuntime, RuntimeEvent, RuntimeInstance, StartedContainer } from "./types";

export const LABEL = {
  managed: "tryitnow.managed",
  app: "tryitnow.app",
  instance: "tryitnow.instance",
  /** The Redis prefix of the deployment, so two deployments on one host never reap each other's containers. */
  deployment: "tryitnow.deployment",
} as const;

export const containerName = (id: string) => `tin-${id}`;

interface DockerOptions {
  socketPath: string;
  network: string;
  deployment: string;
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
    const existing = await this.docker.listNetworks({ filters: { name: [this.options.network] } });
    if (existing.some((network) => network.Name === this.options.network)) return;
    try {
      await this.docker.createNetwork({
        Name: this.options.network,
        Driver: "bridge",
        CheckDuplicate: true,
        // Instances must not reach each other: inter-container traffic off on this bridge.
        Options: { "com.docker.network.bridge.enable_icc": "false" },
        Labels: { [LABEL.managed]: "true" },
      });
    } catch (error) {
      if (statusOf(error) !== 409) throw error;
    }
  }

  private gateway: Promise<string> | undefined;

  hostAddress(): Promise<string> {
    this.gateway ??= this.docker
      .getNetwork(this.options.network)
      .inspect()
      .then((network: { IPAM?: { Config?: { Gateway?: string }[] } }) => {
        const gateway = network.IPAM?.Config?.find((entry) => entry.Gateway)?.Gateway;
        if (!gateway) throw new Error(`docker network ${this.options.network} has no gateway`);
        return gateway;
      })
      .catch((error) => {
        this.gateway = undefined; // asked again next time
        throw error;
      });
    return this.gateway;
  }

  async start(app: AppSpec, id: string, env: Record<string, string>): Promise<StartedContainer> {
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
          NetworkMode: this.options.network,
          CapDrop: ["ALL"],
          CapAdd: app.capAdd,
          SecurityOpt: ["no-new-privileges"],
          PidsLimit: app.pidsLimit,
          Memory: app.memoryMb * 1024 * 1024,
          MemorySwap: app.memoryMb * 1024 * 1024,
          NanoCpus: app.cpuMillis * 1_000_000,
          RestartPolicy: { Name: "no" },
          ReadonlyRootfs: app.readOnlyRoot,
          Tmpfs: app.readOnlyRoot ? { "/tmp": "rw,noexec,nosuid,size=16m" } : undefined,
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
    return { containerId: info.Id, hostPort: Number(binding.HostPort) };
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
    }));
  }
}
