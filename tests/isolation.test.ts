import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docker, type Proc, startWorker } from "./setup/stack";
import { acquire, containersOf, createApp, deleteApp, throughProxy, waitFor, waitReady } from "./helpers";

let worker: Proc;
let hello: string;
let alt: string;

beforeAll(async () => {
  worker = startWorker("worker-isolation");
  hello = await createApp("iso", { pool_target: 2 });
  alt = await createApp("alt", { pool_target: 1, image: "tryitnow/hello-alt:latest" });
  await Promise.all([waitReady(hello, 2), waitReady(alt, 1)]);
});

afterAll(async () => {
  try {
    await deleteApp(hello);
    await deleteApp(alt);
    await waitFor("drained", async () => (await containersOf(hello)).length + (await containersOf(alt)).length === 0, 30_000);
  } finally {
    await worker.stop();
  }
});

describe("container hardening", () => {
  it("every instance: ports on 127.0.0.1 only, CapDrop ALL, no-new-privileges, limits, restart no, read-only root", async () => {
    const containers = [...(await containersOf(hello)), ...(await containersOf(alt))];
    expect(containers.length).toBe(3);
    for (const summary of containers) {
      const info = await docker.getContainer(summary.Id).inspect();
      const bindings = Object.values((info.HostConfig.PortBindings ?? {}) as Record<string, { HostIp: string }[]>).flat();
      expect(bindings.length).toBeGreaterThan(0);
      for (const binding of bindings) expect(binding.HostIp).toBe("127.0.0.1");
      for (const published of Object.values(info.NetworkSettings.Ports ?? {}).flat()) {
        if (published) expect(published.HostIp).toBe("127.0.0.1");
      }
      expect(info.HostConfig.CapDrop).toEqual(["ALL"]);
      expect(info.HostConfig.SecurityOpt).toContain("no-new-privileges");
      expect(info.HostConfig.PidsLimit).toBeGreaterThan(0);
      expect(info.HostConfig.Memory).toBeGreaterThan(0);
      expect(info.HostConfig.NanoCpus).toBeGreaterThan(0);
      expect(info.HostConfig.RestartPolicy?.Name).toBe("no");
      expect(info.HostConfig.ReadonlyRootfs).toBe(true);
      expect(info.HostConfig.NetworkMode).toBe("tin-test-net");
      expect(info.Config.Labels).toMatchObject({ "tryitnow.managed": "true", "tryitnow.deployment": "tintest:" });
      expect(info.Name).toBe(`/tin-${info.Config.Labels["tryitnow.instance"]}`);
      expect(info.Config.Env).toContain(`TRYIT_INSTANCE_ID=${info.Config.Labels["tryitnow.instance"]}`);
    }
    const network = await docker.getNetwork("tin-test-net").inspect();
    expect(network.Options?.["com.docker.network.bridge.enable_icc"]).toBe("false");
  });

  it("two apps side by side: each acquire gets its own app's image", async () => {
    const a = await acquire(hello);
    const b = await acquire(alt);
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect((await throughProxy(a.json.id, "/cgi-bin/app")).text.trim()).toBe("hello");
    expect((await throughProxy(b.json.id, "/cgi-bin/app")).text.trim()).toBe("hello-alt");
    const [altContainer] = (await containersOf(alt)).filter((c) => c.Labels["tryitnow.instance"] === b.json.id);
    expect(altContainer.Image).toBe("tryitnow/hello-alt:latest");
  });
});
