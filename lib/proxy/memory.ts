import type { Route, RouteTable } from "./types";

/**
 * A RouteTable held in memory, for the worker-logic tests (tests/upkeep.test.ts). `restart()`
 * forgets every route as a proxy restarted on its bootstrap config does; `failNextAdds` makes the
 * next additions fail (a proxy that is away). Beside the Caddy tests, never instead of them.
 */
export class MemoryRoutes implements RouteTable {
  readonly routes = new Map<string, number>();
  private prepared = false;
  failNextAdds = 0;

  async prepare(): Promise<void> {
    this.prepared = true;
  }

  async ready(): Promise<boolean> {
    return this.prepared;
  }

  async add(id: string, hostPort: number): Promise<void> {
    if (this.failNextAdds > 0) {
      this.failNextAdds -= 1;
      throw new Error("memory routes: the proxy is away");
    }
    this.routes.set(id, hostPort);
  }

  async remove(id: string): Promise<void> {
    this.routes.delete(id);
  }

  async list(): Promise<Route[]> {
    return [...this.routes].map(([id, hostPort]) => ({ id, hostPort }));
  }

  async ping(): Promise<void> {}

  /** The proxy restarted: no group, no routes, until `prepare`. */
  restart(): void {
    this.routes.clear();
    this.prepared = false;
  }
}
