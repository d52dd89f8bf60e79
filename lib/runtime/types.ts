import type { AppSpec } from "../app-spec";

/** What exists on the container host, as its labels say. */
export interface RuntimeInstance {
  id: string;
  app: string;
  containerId: string;
  running: boolean;
  hostPort: number | null;
}

export interface RuntimeEvent {
  id: string;
  app: string;
  kind: "oom" | "die";
}

export interface StartedContainer {
  containerId: string;
  hostPort: number;
}

/** The seam between the pool and where containers run: Docker now, Kubernetes next (ARCHITECTURE.md, "Scale-out"). */
export interface ContainerRuntime {
  /** Creates whatever shared resources instances need (the private network). Idempotent. */
  prepare(): Promise<void>;
  /** The address at which a container reaches the host (the private network's gateway). */
  hostAddress(): Promise<string>;
  /** Creates and starts the container of an instance; adopts one that already exists. */
  start(app: AppSpec, id: string, env: Record<string, string>): Promise<StartedContainer>;
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
