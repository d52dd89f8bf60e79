import type { AppSpec } from "../app-spec";

/** What exists on the container host, as its labels say. */
export interface RuntimeInstance {
  id: string;
  app: string;
  containerId: string;
  running: boolean;
  hostPort: number | null;
  address: string | null;
}

export interface RuntimeEvent {
  id: string;
  app: string;
  kind: "oom" | "die";
}

export interface StartedContainer {
  containerId: string;
  hostPort: number;
  /** Its address on its network: what the egress rules know it by. */
  address: string;
}

export interface NetworkInfo {
  name: string;
  /** The host's bridge interface of the network. */
  bridge: string;
  subnet: string;
  gateway: string;
}

/** The seam between the pool and where containers run: Docker now, Kubernetes next (ARCHITECTURE.md, "Scale-out"). */
export interface ContainerRuntime {
  /** Creates whatever shared resources instances need (the private network). Idempotent. */
  prepare(): Promise<void>;
  /** A network of the deployment by name, created when missing (inter-container traffic off). */
  ensureNetwork(name: string): Promise<NetworkInfo>;
  /** The deployment's networks: CONTAINER_NETWORK and its egress variants. */
  networks(): Promise<NetworkInfo[]>;
  /** Creates and starts the container of an instance; adopts one that already exists. */
  start(app: AppSpec, id: string, env: Record<string, string>, network: string): Promise<StartedContainer>;
  /** An instance's address on its network; null when it has no container (or none running). */
  addressOf(id: string): Promise<string | null>;
  /** Removes an instance's container; a missing one counts as removed. */
  remove(id: string): Promise<void>;
  /** Every container this deployment manages. */
  list(): Promise<RuntimeInstance[]>;
  /** Calls back when an instance's container is OOM-killed or dies; returns a function that stops watching. */
  watch(onEvent: (event: RuntimeEvent) => void): () => void;
  ping(): Promise<void>;
  /** Whether running containers outlive a restart of the runtime's daemon (Docker's live-restore). */
  survivesRestart(): Promise<boolean>;
}
