import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisKeys } from "../lib/store/keys";
import { acquire, api, containersOf, createApp, execIn, redis, removeApps, throughProxy, waitFor, waitReady } from "./helpers";
import { docker, type Proc, startWorker, TEST_PREFIX } from "./setup/stack";

const testKeys = redisKeys(TEST_PREFIX);

async function networkOf(containerId: string) {
  const info = await docker.getContainer(containerId).inspect();
  const network = info.NetworkSettings.Networks["tin-test-net"];
  return { ip: network.IPAddress, gateway: network.Gateway };
}

let worker: Proc;
let hello: string;
let alt: string;

beforeAll(async () => {
  worker = startWorker("worker-isolation");
  hello = await createApp("iso", { pool_target: 2 });
  alt = await createApp("alt", { pool_target: 1, image: "tryitnow/hello-alt:latest" });
  await Promise.all([waitReady(hello, 2), waitReady(alt, 1)]);
});

const extraApps: string[] = [];

afterAll(() => removeApps([hello, alt, ...extraApps], [worker]));

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

describe("isolation probed from inside an instance", () => {
  it("another instance and the host's loopback services are unreachable", async () => {
    await waitReady(hello, 2);
    const [a, b] = await containersOf(hello);
    const target = await networkOf(b.Id);
    const self = await networkOf(a.Id);
    expect(self.ip).not.toBe(target.ip);
    // Sanity: the probe itself works (the container reaches its own server).
    const own = await execIn(a.Id, 'printf "GET /cgi-bin/whoami HTTP/1.0\\r\\n\\r\\n" | nc -w 2 127.0.0.1 8080 | tail -1');
    expect(own.output.trim()).toBe(a.Labels["tryitnow.instance"]);
    const probe = async (host: string, port: number) => {
      const { output } = await execIn(a.Id, `nc -w 2 ${host} ${port} </dev/null && echo OPEN || echo CLOSED`);
      return output.includes("CLOSED") && !output.includes("OPEN") ? "CLOSED" : output;
    };
    expect(await probe(target.ip, 8080)).toBe("CLOSED"); // inter-container traffic is off
    const bPort = b.Ports.find((p) => p.PublicPort)?.PublicPort ?? 0;
    for (const port of [6379, 3306, 4222, 2019, 12019, 18080, bPort]) {
      expect(await probe(self.gateway, port), `host port ${port}`).toBe("CLOSED");
    }
  });

  it("a fork bomb hits the pids limit while the host and other instances keep answering", async () => {
    await waitReady(hello, 2);
    const [bombed, neighbour] = await containersOf(hello);
    const result = await execIn(
      bombed.Id,
      "i=0; while [ $i -lt 400 ]; do sleep 30 </dev/null >/dev/null 2>&1 & i=$((i+1)); done 2>&1 | head -3; echo done",
      30_000,
    );
    expect(result.output).toMatch(/can't fork|Resource temporarily unavailable|fork/i);
    const inspect = await docker.getContainer(bombed.Id).inspect();
    const top = await docker.getContainer(bombed.Id).top();
    expect(top.Processes.length).toBeLessThanOrEqual(inspect.HostConfig.PidsLimit ?? 0);
    const neighbourId = neighbour.Labels["tryitnow.instance"];
    expect((await throughProxy(neighbourId, "/cgi-bin/whoami")).text.trim()).toBe(neighbourId);
    expect((await api("/health", { key: null })).status).toBe(200);
  });

  it("a memory hog is OOM-killed alone; its instance is reported and replaced", async () => {
    const slug = await createApp("oom", { pool_target: 2, memory_mb: 32 });
    extraApps.push(slug);
    await waitReady(slug, 2);
    const [hog, neighbour] = await containersOf(slug);
    const hogId = hog.Labels["tryitnow.instance"];
    const neighbourId = neighbour.Labels["tryitnow.instance"];
    const result = await execIn(hog.Id, 'x=0123456789abcdef; while :; do x="$x$x"; done', 60_000);
    expect(result.code).toBe(137); // SIGKILL from the OOM killer
    await waitFor(
      "the hog's instance to be failed and replaced",
      async () => {
        const ids = (await containersOf(slug)).map((c) => c.Labels["tryitnow.instance"]);
        const ready = await redis.lrange(testKeys.app(slug).ready, 0, -1);
        return !ids.includes(hogId) && ready.length === 2 && !ready.includes(hogId);
      },
      30_000,
      250,
    );
    expect((await throughProxy(neighbourId, "/cgi-bin/whoami")).text.trim()).toBe(neighbourId);
    const metrics = await waitFor(
      "the failure in /metrics",
      async () => {
        const text = (await api("/metrics")).text;
        return text.includes(`tin_instances_failed_total{app="${slug}",reason="oom"}`) && text;
      },
      15_000,
      500,
    );
    expect(metrics).toMatch(new RegExp(`tin_instances_failed_total\\{app="${slug}",reason="oom"\\} [1-9]`));
  });

  it("an app may add back capabilities only explicitly, and writes only to its declared paths", async () => {
    const slug = await createApp("loose", {
      pool_target: 1,
      cap_add: ["NET_BIND_SERVICE"],
      writable_paths: ["/tmp:8", "/var/cache/app:4"],
    });
    extraApps.push(slug);
    await waitReady(slug, 1);
    const [container] = await containersOf(slug);
    const info = await docker.getContainer(container.Id).inspect();
    expect(info.HostConfig.ReadonlyRootfs).toBe(true);
    expect(info.HostConfig.Tmpfs).toEqual({
      "/tmp": "rw,noexec,nosuid,nodev,size=8m",
      "/var/cache/app": "rw,noexec,nosuid,nodev,size=4m",
    });
    expect(info.HostConfig.CapAdd).toEqual(["NET_BIND_SERVICE"]);
    expect(info.HostConfig.CapDrop).toEqual(["ALL"]);
    expect(info.HostConfig.SecurityOpt).toContain("no-new-privileges");
    // As the image's root (still without capabilities): a declared path takes a write, the root refuses it.
    expect((await execIn(container.Id, "echo hi > /var/cache/app/probe && echo WROTE", 10_000, "0")).output).toContain("WROTE");
    const refused = (await execIn(container.Id, "echo hi > /probe && echo WROTE || echo REFUSED", 10_000, "0")).output;
    expect(refused).toContain("REFUSED");
    expect(refused).toContain("Read-only file system");
  });
});
