import { afterAll, describe, expect, it } from "vitest";
import { redisKeys } from "../lib/store/keys";
import {
  acquire,
  api,
  appStats,
  containersOf,
  createApp,
  redis,
  removeApps,
  routeIds,
  throughProxy,
  waitFor,
  waitReady,
} from "./helpers";
import { caddyUp, type Proc, startCaddy, startWorker, stopCaddy, TEST_PREFIX } from "./setup/stack";

const testKeys = redisKeys(TEST_PREFIX);

const procs: Proc[] = [];
const apps: string[] = [];

afterAll(() => removeApps(apps, procs));

describe("crashes and restarts", () => {
  it("a worker killed with SIGKILL mid-provision leaves no container, route or record behind after reconcile", async () => {
    // Health never passes, so the killed worker is certainly in the middle of provisioning.
    const slug = await createApp("crash", { pool_target: 3, health_path: "/never-healthy" });
    apps.push(slug);
    const doomed = startWorker("worker-doomed");
    const ids = await waitFor("containers being provisioned", async () => {
      const containers = await containersOf(slug);
      return containers.length === 3 && containers.map((c) => c.Labels["tryitnow.instance"]);
    });
    expect((await appStats(slug))?.warming).toBe(3);
    doomed.child.kill("SIGKILL");
    await doomed.exited;
    // Nothing should be provisioned again for this app; only the survivor's reconcile acts.
    expect((await api(`/api/v1/apps/${slug}`, { method: "PATCH", json: { pool_target: 0 } })).status).toBe(200);
    const survivor = startWorker("worker-survivor");
    procs.push(survivor);
    const keys = testKeys.app(slug);
    await waitFor(
      "the abandoned instances to be cleaned up",
      async () => {
        if ((await containersOf(slug)).length) return false;
        const routes = await routeIds();
        if (ids.some((id) => routes.includes(id))) return false;
        for (const id of ids) if ((await redis.exists(keys.inst(id), `${TEST_PREFIX}loc:${id}`)) > 0) return false;
        return (await redis.scard(keys.warming)) === 0;
      },
      30_000,
      250,
    );
    expect(await appStats(slug)).toMatchObject({ ready: 0, warming: 0, assigned: 0 });
  });

  it("a worker killed at random points of healthy provisions still leaves every container with its record", async () => {
    const slug = await createApp("crash2", { pool_target: 8, pool_max: 10 });
    apps.push(slug);
    const doomed = startWorker("worker-doomed-2");
    await waitFor("some provisions under way", async () => (await containersOf(slug)).length >= 3, 30_000, 20);
    doomed.child.kill("SIGKILL");
    await doomed.exited;
    const survivor = startWorker("worker-survivor-2");
    procs.push(survivor);
    await waitReady(slug, 8);
    const keys = testKeys.app(slug);
    await waitFor(
      "containers, routes and records to agree",
      async () => {
        const containers = (await containersOf(slug)).map((c) => c.Labels["tryitnow.instance"]);
        const ready = await redis.lrange(keys.ready, 0, -1);
        const routes = await routeIds();
        return (
          containers.length === 8 &&
          ready.length === 8 &&
          containers.every((id) => ready.includes(id)) &&
          ready.every((id) => routes.includes(id))
        );
      },
      30_000,
      250,
    );
  });

  it("routes of ready and assigned instances come back after Caddy restarts", async () => {
    const slug = await createApp("caddy", { pool_target: 2 });
    apps.push(slug);
    procs.push(startWorker("worker-caddy"));
    await waitReady(slug, 2);
    const { json: assigned } = await acquire(slug);
    await waitReady(slug, 2);
    const expected = (await containersOf(slug)).map((c) => c.Labels["tryitnow.instance"]);
    expect(expected).toHaveLength(3);
    expect(expected).toContain(assigned.id);

    await stopCaddy();
    startCaddy({ outlive: true });
    await waitFor("caddy back", caddyUp, 20_000);
    await waitFor(
      "routes restored",
      async () => {
        const routes = await routeIds();
        return expected.every((id) => routes.includes(id));
      },
      20_000,
      200,
    );
    // Each route Caddy gets back is a config reload, and a connection the outgoing server accepted
    // during one can be reset: the restored route is proved by serving, once the reloads settle.
    let whoami = "";
    await waitFor(
      "the assigned instance served through the restarted Caddy",
      async () => {
        whoami = (await throughProxy(assigned.id, "/cgi-bin/whoami").catch(() => ({ text: "" }))).text.trim();
        return whoami === assigned.id;
      },
      10_000,
      200,
    );
    expect(whoami).toBe(assigned.id);
  });

  it("an instance whose TTL passes loses its container and route within seconds", async () => {
    const slug = await createApp("ttl", { pool_target: 1, default_ttl_seconds: 5, max_ttl_seconds: 60 });
    apps.push(slug);
    procs.push(startWorker("worker-ttl"));
    await waitReady(slug, 1);
    const { json: instance } = await acquire(slug);
    expect(instance.ttl_seconds).toBe(5);
    expect((await throughProxy(instance.id, "/cgi-bin/whoami")).text.trim()).toBe(instance.id);
    await waitFor("expiry", async () => (await api(`/api/v1/demo/${instance.id}`)).status === 404, 10_000, 200);
    await waitFor(
      "container and route gone",
      async () =>
        (await containersOf(slug)).every((c) => c.Labels["tryitnow.instance"] !== instance.id) &&
        !(await routeIds()).includes(instance.id),
      10_000,
      200,
    );
    expect((await throughProxy(instance.id, "/")).status).toBe(404);
    await waitReady(slug, 1); // and the pool refills
  });

  it("a ready instance whose container dies is failed and replaced", async () => {
    const slug = await createApp("dies", { pool_target: 1 });
    apps.push(slug);
    procs.push(startWorker("worker-dies"));
    await waitReady(slug, 1);
    const [container] = await containersOf(slug);
    const deadId = container.Labels["tryitnow.instance"];
    const { docker } = await import("./setup/stack");
    await docker.getContainer(container.Id).kill();
    await waitFor(
      "replacement",
      async () => {
        const containers = await containersOf(slug);
        const ready = await redis.lrange(testKeys.app(slug).ready, 0, -1);
        return ready.length === 1 && ready[0] !== deadId && containers.every((c) => c.Labels["tryitnow.instance"] !== deadId);
      },
      30_000,
      250,
    );
  });
});
