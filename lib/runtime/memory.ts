import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { AppSpec } from "../app-spec";
import type { ContainerRuntime, NetworkInfo, RuntimeEvent, RuntimeInstance, StartedContainer } from "./types";

interface Container {
  id: string;
  app: string;
  containerId: string;
  running: boolean;
  hostPort: number;
  address: string;
  server: Server;
}

/**
 * A ContainerRuntime held in memory, for the worker-logic tests (tests/upkeep.test.ts): each
 * "container" is an HTTP listener on a loopback port that answers 200 (so the health check that
 * provision runs is the real one) until the test stops it. A test can make it lag (`startDelayMs`),
 * fail its next starts, kill a container (a `die` event, as Docker sends), or remove one behind the
 * product's back. Beside the Docker tests, never instead of them.
 */
export class MemoryRuntime implements ContainerRuntime {
  readonly containers = new Map<string, Container>();
  private readonly nets = new Map<string, NetworkInfo>();
  private readonly watchers = new Set<(event: RuntimeEvent) => void>();
  private serial = 0;
  /** Every start waits this long before it answers (a slow daemon). */
  startDelayMs = 0;
  /** How many of the next starts fail, and with what. */
  failNextStarts = 0;
  failure = "memory runtime: start refused";
  /** The calls made, in order (`start <id>`, `remove <id>`): what a test asserts a step did. */
  readonly calls: string[] = [];

  async prepare(): Promise<void> {}

  async ensureNetwork(name: string): Promise<NetworkInfo> {
    let network = this.nets.get(name);
    if (!network) {
      const n = this.nets.size + 1;
      network = { name, bridge: `mem${n}`, subnet: `10.${n}.0.0/24`, gateway: `10.${n}.0.1` };
      this.nets.set(name, network);
    }
    return network;
  }

  async networks(): Promise<NetworkInfo[]> {
    return [...this.nets.values()];
  }

  async start(app: AppSpec, id: string, _env: Record<string, string>, _network: string): Promise<StartedContainer> {
    this.calls.push(`start ${id}`);
    if (this.startDelayMs) await new Promise((resolve) => setTimeout(resolve, this.startDelayMs));
    if (this.failNextStarts > 0) {
      this.failNextStarts -= 1;
      throw new Error(this.failure);
    }
    const existing = this.containers.get(id);
    if (existing?.running) return existing;
    const server = createServer((_request, response) => response.end("ok"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.serial += 1;
    const container: Container = {
      id,
      app: app.slug,
      containerId: `mem-${this.serial}`,
      running: true,
      hostPort: (server.address() as AddressInfo).port,
      address: `10.0.${Math.floor(this.serial / 250)}.${(this.serial % 250) + 2}`,
      server,
    };
    this.containers.set(id, container);
    return container;
  }

  async addressOf(id: string): Promise<string | null> {
    const container = this.containers.get(id);
    return container?.running ? container.address : null;
  }

  async remove(id: string): Promise<void> {
    this.calls.push(`remove ${id}`);
    const container = this.containers.get(id);
    if (!container) return;
    this.containers.delete(id);
    await closeServer(container.server);
  }

  async list(): Promise<RuntimeInstance[]> {
    return [...this.containers.values()].map(({ id, app, containerId, running, hostPort, address }) => ({
      id,
      app,
      containerId,
      running,
      hostPort: running ? hostPort : null,
      address: running ? address : null,
    }));
  }

  watch(onEvent: (event: RuntimeEvent) => void): () => void {
    this.watchers.add(onEvent);
    return () => this.watchers.delete(onEvent);
  }

  async ping(): Promise<void> {}

  async survivesRestart(): Promise<boolean> {
    return true;
  }

  /** The container stops (its process died, or the kernel's OOM killer took it): watchers hear of it. */
  async kill(id: string, kind: RuntimeEvent["kind"] = "die"): Promise<void> {
    const container = this.containers.get(id);
    if (!container) return;
    container.running = false;
    await closeServer(container.server);
    for (const watcher of this.watchers) watcher({ id, app: container.app, kind });
  }

  /** Removes every container (a test's teardown). */
  async close(): Promise<void> {
    await Promise.all([...this.containers.keys()].map((id) => this.remove(id)));
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}
