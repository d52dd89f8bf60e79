/** One instance's route: `<id>.<BASE_DOMAIN>` → `127.0.0.1:<hostPort>`. */
export interface Route {
  id: string;
  hostPort: number | null;
}

/** The seam between the pool and the reverse proxy (Caddy's admin API). */
export interface RouteTable {
  /** Makes sure the proxy's server and the instance route group exist (after a proxy restart). */
  prepare(): Promise<void>;
  /** Whether the instance route group is there (false: the proxy restarted with its bootstrap config). */
  ready(): Promise<boolean>;
  add(id: string, hostPort: number): Promise<void>;
  /** Removes an instance's route; a missing one counts as removed. */
  remove(id: string): Promise<void>;
  list(): Promise<Route[]>;
  ping(): Promise<void>;
}
